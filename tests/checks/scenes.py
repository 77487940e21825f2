"""Camera sources for the checks: kiosk.vision scenes with live sensor noise, a camera that is
pulled out and plugged back, and hubs running them."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import numpy as np

from kiosk.base.frames import BgrFrame
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import Renderer, SyntheticCamera
from kiosk.devices.v4l2 import CameraUnavailable
from scenes.render import SceneSpec, render_scene

SIZE = (640, 480)
# Above the 15 fps a real camera is asked for, so a loaded test machine does not read as a
# slow camera.
FPS = 20.0


def live(spec: SceneSpec, variants: int = 6) -> Renderer:
    """The scene as a camera films it: fresh sensor noise on every frame (never frozen)."""
    base = render_scene(spec, SIZE).astype(np.int16)
    rng = np.random.default_rng(spec.seed)
    frames = [
        np.clip(base + rng.normal(0, 2.0, base.shape).astype(np.int16), 0, 255).astype(np.uint8)
        for _ in range(variants)
    ]
    return lambda t: frames[round(t * FPS) % variants]


def switching(first: Renderer, second: Renderer, at_s: float) -> Renderer:
    """`first` until `at_s` seconds of scene time, then `second` (the patient fixed something)."""
    return lambda t: first(t) if t < at_s else second(t)


class UnpluggedBetween(SyntheticCamera):
    """A camera pulled out `gone_at` seconds after it was first opened and back at `back_at`."""

    name = "unpluggable"

    def __init__(self, render: Renderer, gone_at: float, back_at: float) -> None:
        super().__init__(SIZE[0], SIZE[1], FPS, render)
        self._window = (gone_at, back_at)
        self._origin: float | None = None
        self._lock = threading.Lock()

    def _gone(self) -> bool:
        with self._lock:
            if self._origin is None:
                self._origin = time.monotonic()
            elapsed = time.monotonic() - self._origin
        return self._window[0] <= elapsed < self._window[1]

    def open(self) -> None:
        if self._gone():
            raise CameraUnavailable("the test camera is unplugged")
        super().open()

    def read(self) -> BgrFrame | None:
        return None if self._gone() else super().read()


@asynccontextmanager
async def running_hub(
    render: Renderer | SyntheticCamera, *, synthetic: bool = False, fps: float = FPS
) -> AsyncIterator[CameraHub]:
    """A started hub; `synthetic=False` makes it stand for a real camera."""
    source = (
        render
        if isinstance(render, SyntheticCamera)
        else SyntheticCamera(SIZE[0], SIZE[1], fps, render)
    )
    hub = CameraHub(source, synthetic=synthetic, failures_to_unplug=3, retry_s=0.2)
    hub.start()
    try:
        yield hub
    finally:
        await asyncio.to_thread(hub.stop)


async def sample(report: Callable[[], object], seconds: float, every_s: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        report()
        await asyncio.sleep(every_s)
