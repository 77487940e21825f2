"""The camera hub: one capture thread per camera, newest-frame fan-out to every consumer.

Consumers (self-view, analysers, the outgoing video track) never queue frames: each asks for
the newest one and compares its sequence number with the last it saw. When reads fail the hub
says so (`UNPLUGGED`), closes the device, retries opening it and resumes.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from kiosk.base.frames import BgrFrame
from kiosk.devices.frames import CameraFrame
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.devices.v4l2 import CameraUnavailable, V4l2Camera

log = logging.getLogger(__name__)


class FrameSource(Protocol):
    """Where frames come from. `open` raises `CameraUnavailable`; `read` returns None on a
    failed read. Called only from the hub's capture thread."""

    name: str
    width: int
    height: int
    fps: float

    def open(self) -> None: ...

    def read(self) -> BgrFrame | None: ...

    def close(self) -> None: ...


class CameraState(enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    UNPLUGGED = "unplugged"


StateListener = Callable[[CameraState], None]


class CameraHub:
    """Owns one frame source and its capture thread.

    `failures_to_unplug` consecutive failed reads mean the camera is gone; then it is reopened
    every `retry_s` seconds."""

    def __init__(
        self,
        source: FrameSource,
        *,
        synthetic: bool = False,
        failures_to_unplug: int = 3,
        retry_s: float = 1.0,
    ) -> None:
        self.source = source
        self.synthetic = synthetic
        self.fps = source.fps
        self.size = (source.width, source.height)
        self._failures_to_unplug = failures_to_unplug
        self._retry_s = retry_s
        self._lock = threading.Condition()
        self._latest: CameraFrame | None = None
        self._seq = 0
        self._state = CameraState.STOPPED
        self._history: list[CameraState] = [CameraState.STOPPED]
        self._listeners: list[StateListener] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_config(
        cls, camera: str, width: int = 1280, height: int = 720, fps: float = 30.0
    ) -> CameraHub:
        """`camera` as in the configuration: "synthetic", "" (first camera), index, path or
        name, asked for `width`x`height` at `fps`. Without a usable camera the hub renders a
        synthetic scene (at most 640x480 and 15 frames a second: nobody looks closely) and
        says so."""
        if camera != "synthetic":
            device = V4l2Camera(camera, width, height, fps)
            try:
                device.open()
            except CameraUnavailable as exc:
                log.warning("no camera, sending a generated picture instead: %s", exc)
            else:
                device.close()
                return cls(device)
        return cls(
            SyntheticCamera(min(width, 640), min(height, 480), min(fps, 15.0)), synthetic=True
        )

    # -- consumers ---------------------------------------------------------------------------

    @property
    def state(self) -> CameraState:
        return self._state

    @property
    def state_history(self) -> list[CameraState]:
        with self._lock:
            return list(self._history)

    def latest(self) -> CameraFrame | None:
        """The newest frame (None before the first); compare `seq` to see if it is new."""
        return self._latest

    def wait_newer(self, seq: int, timeout: float) -> CameraFrame | None:
        """Block until a frame newer than `seq` exists (for consumers on their own thread)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._latest is None or self._latest.seq <= seq:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._lock.wait(remaining):
                    return None
            return self._latest

    def on_state(self, listener: StateListener) -> Callable[[], None]:
        """Call `listener` on each state change, from the capture thread; returns a remover."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"camera-{self.source.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=5)
        if thread.is_alive():
            raise RuntimeError(f"camera thread for {self.source.name!r} did not stop within 5 s")
        with self._lock:
            self._latest = None
        self._set_state(CameraState.STOPPED)

    # -- capture thread ----------------------------------------------------------------------

    def _set_state(self, state: CameraState) -> None:
        with self._lock:
            if state == self._state:
                return
            self._state = state
            self._history.append(state)
            listeners = list(self._listeners)
        log.info("camera %s: %s", self.source.name, state.value)
        for listener in listeners:
            try:
                listener(state)
            except Exception:
                log.exception("camera state listener failed")

    def _publish(self, image: BgrFrame) -> None:
        image.flags.writeable = False
        with self._lock:
            self._seq += 1
            self._latest = CameraFrame(self._seq, image, time.monotonic())
            self._lock.notify_all()

    def _open(self) -> bool:
        try:
            self.source.open()
        except CameraUnavailable as exc:
            log.warning("camera %s: %s", self.source.name, exc)
            return False
        return True

    def _run(self) -> None:
        self._set_state(CameraState.STARTING)
        interval = 1.0 / self.fps
        opened = self._open()
        if not opened:
            self._set_state(CameraState.UNPLUGGED)
        failures = 0
        next_at = time.monotonic()
        try:
            while not self._stop.is_set():
                if not opened:
                    if self._stop.wait(self._retry_s):
                        break
                    opened = self._open()
                    failures = 0
                    next_at = time.monotonic()
                    continue
                image = self.source.read()
                if image is None:
                    failures += 1
                    if failures >= self._failures_to_unplug:
                        self._set_state(CameraState.UNPLUGGED)
                        self.source.close()
                        opened = False
                        continue
                else:
                    failures = 0
                    self._publish(image)
                    self._set_state(CameraState.RUNNING)
                next_at += interval
                delay = next_at - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    # Behind schedule (slow device or machine): skip, never catch up in a burst.
                    next_at = time.monotonic()
        finally:
            self.source.close()
