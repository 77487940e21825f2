"""QR join codes: share of a generated set decoded, and time per 1280×720 frame."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit, median, p95, time_ms

from kiosk.base.memory import tune_malloc
from kiosk.vision.qr import scan_frame
from scenes.qr_codes import qr_frames


def main(count: int = 200) -> None:
    cv2.setNumThreads(1)
    tune_malloc()  # as the kiosk runs
    times: list[float] = []
    decoded = 0
    for payload, frame in qr_frames(count, seed=7):
        ms, data = time_ms(lambda f=frame: scan_frame(f))
        times.append(ms)
        decoded += data == payload.encode()
    emit(
        {
            "frames": count,
            "decoded_fraction": round(decoded / count, 4),
            "scan_ms_median_720p": median(times),
            "scan_ms_p95_720p": p95(times),
        }
    )


if __name__ == "__main__":
    main()
