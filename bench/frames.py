"""Camera frame analysis time per 1280×720 frame.

`analysis_figures` measures light + framing (faces every third frame); more figures for the
same frames are added as more functions returning a dict and merged in `main`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, median, time_ms

from kiosk.vision.analysis import FrameAnalyser
from kiosk.vision.frames import BgrFrame
from kiosk.vision.scenes import moving


def camera_frames(count: int = 150) -> list[BgrFrame]:
    return [moving(i / 15, size=(1280, 720)) for i in range(count)]


def analysis_figures(frames: list[BgrFrame]) -> dict[str, Any]:
    analyser = FrameAnalyser()
    times = [time_ms(lambda f=frame: analyser.analyse(f))[0] for frame in frames]
    return {"analysis_ms_median_720p": median(times), "analysis_frames": len(frames)}


def main() -> None:
    cv2.setNumThreads(1)
    frames = camera_frames()
    result: dict[str, Any] = {}
    result.update(analysis_figures(frames))
    emit(result)


if __name__ == "__main__":
    main()
