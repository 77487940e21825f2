"""Builds a running engine from the configuration: devices first, then the engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from kiosk.base.clock import Clock
from kiosk.base.memory import tune_malloc
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.echo import EchoCanceller
from kiosk.engine.engine import Engine

log = logging.getLogger(__name__)


@asynccontextmanager
async def running_engine(
    config: KioskConfig,
    clock: Clock | None = None,
    on_task_failure: Callable[[BaseException], None] | None = None,
    watch_media: bool = True,
    echo_cancel: bool = False,
    preload: bool = True,
) -> AsyncIterator[Engine]:
    """With `echo_cancel`, PulseAudio's canceller sits between the call and the room's
    speaker and microphone; it must start before the audio streams open so that they take
    the cancelled devices. Without `preload`, the caller calls `engine.preload()` itself
    (with a window: once the start screen is drawn)."""
    tune_malloc()
    echo = EchoCanceller(config.speaker, config.microphone, bypass=config.echo_cancel_bypass)
    echo_missing = False
    microphone, speaker = config.microphone, config.speaker
    if echo_cancel:
        status = echo.start()
        echo_missing = status.missing
        log.info("echo cancellation: %s %s", status.mode.value, status.reason)
        if status.active:
            # The configured names are the room's PulseAudio devices, which the canceller now
            # wraps; the call must use the canceller's pair, which it made the defaults.
            microphone, speaker = "", ""
    camera = CameraHub.from_config(
        config.camera, config.camera_width, config.camera_height, config.camera_fps
    )
    audio = AudioIO(microphone, speaker)
    camera.start()
    audio.start()
    engine = Engine(
        config,
        camera,
        audio,
        clock=clock,
        on_task_failure=on_task_failure,
        watch_media=watch_media,
    )
    engine.echo_cancel_missing = echo_missing
    await engine.start()
    if preload:
        engine.preload()
    try:
        yield engine
    finally:
        await engine.stop()
        camera.stop()
        audio.stop()
        if echo_cancel:
            echo.stop()
