"""The camera-to-encoder path: one scale and one conversion per captured frame, buffers reused,
no memory growth over hundreds of frames, at every send size."""

from __future__ import annotations

import tracemalloc

import av

from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.media.quality import LEVELS
from kiosk.media.tracks import CameraVideoTrack


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
