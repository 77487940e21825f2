from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from kiosk.base.frames import BgrFrame, small_grey
from kiosk.devices.camera import CameraHub, CameraState
from kiosk.devices.frames import CameraFrame, to_i420, to_rgb
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.devices.v4l2 import CameraUnavailable


class UnpluggableCamera(SyntheticCamera):
    """The synthetic scene behind a cable the test can pull (the only part no machine here
    has is the camera itself)."""

    def __init__(self) -> None:
        super().__init__(64, 48, fps=50.0)
        self.plugged = threading.Event()
        self.plugged.set()
        self.opens = 0

    def open(self) -> None:
        if not self.plugged.is_set():
            raise CameraUnavailable("expected the test camera plugged in, it is not")
        self.opens += 1
        super().open()

    def read(self) -> BgrFrame | None:
        return super().read() if self.plugged.is_set() else None


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def test_synthetic_fan_out_gives_every_consumer_the_newest_frame() -> None:
    hub = CameraHub(SyntheticCamera(160, 120, fps=30.0), synthetic=True)
    seen: list[list[CameraFrame]] = [[], [], []]
    stop = threading.Event()

    def consume(out: list[CameraFrame]) -> None:
        seq = 0
        while not stop.is_set():
            frame = hub.wait_newer(seq, timeout=0.5)
            if frame is not None:
                out.append(frame)
                seq = frame.seq

    threads = [threading.Thread(target=consume, args=(out,)) for out in seen]
    for t in threads:
        t.start()
    hub.start()
    time.sleep(0.6)
    stop.set()
    for t in threads:
        t.join()
    latest = hub.latest()
    hub.stop()

    assert latest is not None
    assert hub.synthetic
    for frames in seen:
        seqs = [f.seq for f in frames]
        assert len(seqs) >= 10
        assert seqs == sorted(set(seqs)), "a consumer saw a frame twice or out of order"
        assert frames[0].image.shape == (120, 160, 3)
        assert frames[0].image.dtype == np.uint8
    # All consumers share the same frame objects, not copies.
    common = {f.seq for f in seen[0]} & {f.seq for f in seen[1]}
    assert common
    s = min(common)
    a = next(f for f in seen[0] if f.seq == s)
    b = next(f for f in seen[1] if f.seq == s)
    assert a.image is b.image
    assert not a.image.flags.writeable
    # 30 fps for 0.6 s: paced, not free-running.
    assert 10 <= latest.seq <= 25
    assert hub.state_history == [
        CameraState.STOPPED,
        CameraState.STARTING,
        CameraState.RUNNING,
        CameraState.STOPPED,
    ]
    assert hub.latest() is None


def test_the_scene_moves() -> None:
    cam = SyntheticCamera(160, 120, fps=15.0)
    cam.open()
    first, second = cam.read(), cam.read()
    assert first is not None and second is not None
    assert np.abs(first.astype(int) - second.astype(int)).sum() > 0


def test_unplug_and_replug_resumes_with_history() -> None:
    camera = UnpluggableCamera()
    hub = CameraHub(camera, failures_to_unplug=2, retry_s=0.05)
    states: list[CameraState] = []
    hub.on_state(states.append)
    hub.start()
    wait_for(lambda: hub.state is CameraState.RUNNING)
    camera.plugged.clear()
    wait_for(lambda: hub.state is CameraState.UNPLUGGED)
    frame_at_unplug = hub.latest()
    time.sleep(0.2)  # several failed reopen attempts
    assert camera.opens == 1
    camera.plugged.set()
    wait_for(lambda: hub.state is CameraState.RUNNING)
    assert frame_at_unplug is not None
    wait_for(lambda: (f := hub.latest()) is not None and f.seq > frame_at_unplug.seq)
    hub.stop()

    assert camera.opens == 2
    expected = [
        CameraState.STARTING,
        CameraState.RUNNING,
        CameraState.UNPLUGGED,
        CameraState.RUNNING,
        CameraState.STOPPED,
    ]
    assert states == expected
    assert hub.state_history == [CameraState.STOPPED, *expected]


def test_a_camera_missing_at_start_is_reported_unplugged_then_found() -> None:
    camera = UnpluggableCamera()
    camera.plugged.clear()
    hub = CameraHub(camera, retry_s=0.05)
    hub.start()
    wait_for(lambda: hub.state is CameraState.UNPLUGGED)
    assert hub.latest() is None
    camera.plugged.set()
    wait_for(lambda: hub.latest() is not None)
    hub.stop()
    assert hub.state_history == [
        CameraState.STOPPED,
        CameraState.STARTING,
        CameraState.UNPLUGGED,
        CameraState.RUNNING,
        CameraState.STOPPED,
    ]


@pytest.mark.parametrize("spec", ["", "/dev/video63", "No Such Webcam"])
def test_no_camera_falls_back_to_synthetic(spec: str) -> None:
    # No V4L2 device exists on this machine, so every spec falls back.
    hub = CameraHub.from_config(spec, 320, 240, fps=15.0)
    assert hub.synthetic
    assert hub.size == (320, 240)
    hub.start()
    wait_for(lambda: hub.latest() is not None)
    frame = hub.latest()
    hub.stop()
    assert frame is not None and frame.size == (320, 240)


def test_explicit_synthetic_camera() -> None:
    hub = CameraHub.from_config("synthetic")
    assert hub.synthetic and hub.fps == 15.0 and hub.size == (640, 480)


def test_conversions() -> None:
    image = np.zeros((480, 640, 3), np.uint8)
    image[..., 0] = 255  # pure blue in BGR
    rgb = to_rgb(image)
    assert rgb.flags.c_contiguous
    assert rgb[0, 0].tolist() == [0, 0, 255]
    i420 = to_i420(image)
    assert i420.shape == (720, 640)
    with pytest.raises(ValueError, match="even frame size"):
        to_i420(np.zeros((5, 5, 3), np.uint8))


def test_a_frame_is_reduced_once_for_all_its_consumers() -> None:
    hub = CameraHub(SyntheticCamera(640, 480, fps=30.0), synthetic=True)
    hub.start()
    try:
        wait_for(lambda: hub.latest() is not None)
        frame = hub.latest()
        assert frame is not None
        copies: list[np.ndarray] = []
        threads = [
            threading.Thread(target=lambda: copies.append(frame.small_grey())) for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        hub.stop()
    assert len(copies) == 4 and all(copy is copies[0] for copy in copies)
    assert copies[0].shape == (240, 320) and not copies[0].flags.writeable
    assert np.array_equal(copies[0], small_grey(frame.image))
