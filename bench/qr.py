"""QR join codes: share of a generated set decoded, and time per 1280×720 frame, with a code
and without one (then every pass runs and finds nothing: what the number screen costs while
the patient types instead). Wall-clock and this thread's CPU time, which other processes on
the machine disturb less."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit, median, p95

from kiosk.base.memory import tune_malloc
from kiosk.vision.qr import scan_frame
from scenes.qr_codes import qr_frames
from scenes.render import FaceSpec, SceneSpec, render_scene


def timed(frame: object) -> tuple[float, float, bytes | None]:
    start, start_cpu = time.perf_counter(), time.thread_time()
    data = scan_frame(frame)  # type: ignore[arg-type]
    return (time.perf_counter() - start) * 1000.0, (time.thread_time() - start_cpu) * 1000.0, data


def main(count: int = 200, empty: int = 20) -> None:
    cv2.setNumThreads(1)
    tune_malloc()  # as the kiosk runs
    wall: list[float] = []
    cpu: list[float] = []
    decoded = 0
    for payload, frame in qr_frames(count, seed=7):
        ms, cpu_ms, data = timed(frame)
        wall.append(ms)
        cpu.append(cpu_ms)
        decoded += data == payload.encode()
    none_wall: list[float] = []
    none_cpu: list[float] = []
    false_reads = 0
    for seed in range(empty):
        face = FaceSpec(cx=0.4 + 0.01 * seed)
        ms, cpu_ms, data = timed(render_scene(SceneSpec(seed=seed, faces=(face,), noise=4)))
        none_wall.append(ms)
        none_cpu.append(cpu_ms)
        false_reads += data is not None
    emit(
        {
            "frames": count,
            "decoded_fraction": round(decoded / count, 4),
            "scan_ms_median_720p": median(wall),
            "scan_ms_p95_720p": p95(wall),
            "scan_cpu_ms_median_720p": median(cpu),
            "frames_without_code": empty,
            "false_reads_without_code": false_reads,
            "scan_ms_median_720p_without_code": median(none_wall),
            "scan_cpu_ms_median_720p_without_code": median(none_cpu),
        }
    )


if __name__ == "__main__":
    main()
