"""The camera-to-encoder path: one scale and one conversion per captured frame, buffers reused,
no memory growth over hundreds of frames, at every send size."""

from __future__ import annotations

import tracemalloc

import av
import numpy as np
import pytest

from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.media.quality import LEVELS
from kiosk.media.tracks import CameraVideoTrack, SendFormat, crop_to_aspect


async def test_frames_to_the_encoder_do_not_grow_memory() -> None:
    hub = CameraHub(SyntheticCamera(640, 480, fps=30.0), synthetic=True)
    hub.start()
    track = CameraVideoTrack(hub)
    growth: list[int] = []
    sizes: list[tuple[int, int]] = []
    tracemalloc.start()
    try:
        for level in LEVELS:
            # Faster than real time: the path is measured, not the pacing.
            track.set_format(level.send)
            track._pacer.interval = 1 / 240
            for _ in range(60):  # warm-up: buffers for this size are made here
                await track.recv()
            before = _held_by_the_track()
            for _ in range(240):
                frame = await track.recv()
                assert isinstance(frame, av.VideoFrame)
            after = _held_by_the_track()
            growth.append(after - before)
            sizes.append((frame.width, frame.height))
    finally:
        tracemalloc.stop()
        track.stop()
        hub.stop()
    assert sizes == [(lv.send.width, lv.send.height) for lv in LEVELS]
    assert all(g < 64 * 1024 for g in growth), growth
    # Each captured frame was converted once, repeats were not converted again.
    assert track.conversions < track.frames_sent
    assert track.frames_sent == 4 * 300


def _held_by_the_track() -> int:
    """Bytes still allocated from the track's module (the camera thread's own frames, which
    come and go, are not the path under test)."""
    only = [tracemalloc.Filter(True, "*kiosk/media/tracks.py")]
    return sum(
        stat.size for stat in tracemalloc.take_snapshot().filter_traces(only).statistics("filename")
    )


@pytest.mark.parametrize(
    ("source", "send"),
    [((1280, 720), (640, 480)), ((640, 480), (640, 360)), ((1280, 720), (1280, 720))],
)
async def test_the_picture_keeps_its_proportions_at_every_send_size(
    source: tuple[int, int], send: tuple[int, int]
) -> None:
    # A square in the middle of the camera's picture must reach the encoder square.
    width, height = source
    image = np.zeros((height, width, 3), np.uint8)
    side = height // 3
    top, left = (height - side) // 2, (width - side) // 2
    image[top : top + side, left : left + side] = 255
    hub = CameraHub(SyntheticCamera(width, height, 30.0, lambda _t: image.copy()), synthetic=True)
    hub.start()
    track = CameraVideoTrack(hub, SendFormat(send[0], send[1], 15.0))
    try:
        for _ in range(100):
            frame = await track.recv()
            if track.conversions:
                break
        luma = frame.to_ndarray(format="gray")
    finally:
        track.stop()
        hub.stop()
    assert luma.shape == (send[1], send[0])
    rows = np.flatnonzero(luma.max(axis=1) > 128)
    cols = np.flatnonzero(luma.max(axis=0) > 128)
    tall, wide = rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1
    assert abs(tall - wide) <= 2, (tall, wide)
    # Still in the middle: the crop is the centre of the picture.
    assert abs((rows[0] + rows[-1]) / 2 - send[1] / 2) <= 2
    assert abs((cols[0] + cols[-1]) / 2 - send[0] / 2) <= 2


def test_crop_to_aspect_is_a_view_of_the_centre() -> None:
    image = np.arange(720 * 1280 * 3, dtype=np.uint32).reshape(720, 1280, 3)
    cropped = crop_to_aspect(image, 640, 480)  # type: ignore[arg-type]
    assert cropped.shape[:2] == (720, 960) and np.shares_memory(cropped, image)
    assert cropped[0, 0, 0] == image[0, 160, 0]
    assert crop_to_aspect(image, 16, 9) is image  # type: ignore[arg-type]
