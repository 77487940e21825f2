"""The shortest honest check: frames come from the camera and the microphone delivers levels.

It answers "is there a picture and a sound path at all"; the light, framing and speaker checks
build on the same devices.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub, CameraState

MIN_FPS = 5.0


@dataclass(frozen=True)
class QuickResult:
    camera_fps: float
    camera_ok: bool
    camera_synthetic: bool
    microphone_ok: bool
    microphone_missing: bool
    microphone_dbfs: float


async def quick_check(camera: CameraHub, audio: AudioIO, seconds: float = 1.0) -> QuickResult:
    first = camera.latest()
    started = time.monotonic()
    loudest = audio.level.rms_dbfs
    while time.monotonic() - started < seconds:
        await asyncio.sleep(0.05)
        loudest = max(loudest, audio.level.rms_dbfs)
    last = camera.latest()
    elapsed = time.monotonic() - started
    frames = (last.seq - first.seq) if (first and last) else (last.seq if last else 0)
    fps = frames / elapsed if elapsed > 0 else 0.0
    camera_ok = camera.state is CameraState.RUNNING and fps >= MIN_FPS
    return QuickResult(
        camera_fps=round(fps, 1),
        camera_ok=camera_ok,
        camera_synthetic=camera.synthetic,
        microphone_ok=not audio.microphone_missing,
        microphone_missing=audio.microphone_missing,
        microphone_dbfs=round(loudest, 1),
    )
