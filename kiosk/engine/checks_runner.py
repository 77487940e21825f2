"""Runs the device checks for the session and condenses them into its `CheckSummary`."""

from __future__ import annotations

from kiosk.checks.quick import quick_check
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.session.state import CheckSummary


async def run_quick_checks(camera: CameraHub, audio: AudioIO) -> CheckSummary:
    result = await quick_check(camera, audio)
    return CheckSummary(
        camera_ok=result.camera_ok,
        microphone_ok=result.microphone_ok,
        camera_synthetic=result.camera_synthetic,
        microphone_silent=result.microphone_missing,
    )
