"""Builds a running engine from the configuration: devices first, then the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from kiosk.base.clock import Clock
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.engine.engine import Engine


@asynccontextmanager
async def running_engine(
    config: KioskConfig,
    clock: Clock | None = None,
    on_task_failure: Callable[[BaseException], None] | None = None,
    watch_media: bool = True,
) -> AsyncIterator[Engine]:
    camera = CameraHub.from_config(config.camera)
    audio = AudioIO(config.microphone, config.speaker)
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
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        camera.stop()
        audio.stop()
