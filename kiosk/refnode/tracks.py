"""Media tracks the node and its practitioner bot need: a moving test pattern, a tone, and a
track whose source can be switched (or removed) while a call runs."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

VIDEO_CLOCK = 90_000
AUDIO_RATE = 48_000


class _Paced:
    """Paces frames in real time from the first `recv`, without drift."""

    def __init__(self, rate: float) -> None:
        self._rate = rate
        self._start: float | None = None
        self.count = 0

    async def next(self) -> int:
        if self._start is None:
            self._start = time.monotonic()
        else:
            delay = self._start + self.count / self._rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        index = self.count
        self.count += 1
        return index


class PatternTrack(MediaStreamTrack):
    """Colour bars scrolling sideways, so a frozen picture is easy to see."""

    kind = "video"

    def __init__(self, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        super().__init__()
        self._fps = fps
        self._pace = _Paced(fps)
        x = np.linspace(0.0, 2 * math.pi, width, endpoint=False)
        row = np.stack(
            [127 + 127 * np.sin(x + phase) for phase in (0.0, 2.1, 4.2)], axis=-1
        ).astype(np.uint8)
        self._base = np.ascontiguousarray(np.broadcast_to(row, (height, width, 3)))

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pace.next()
        image = np.roll(self._base, shift=index * 8, axis=1)
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = round(index * VIDEO_CLOCK / self._fps)
        frame.time_base = Fraction(1, VIDEO_CLOCK)
        return frame


class ToneTrack(MediaStreamTrack):
    """A continuous sine tone, mono, 20 ms frames at 48 kHz."""

    kind = "audio"

    def __init__(self, frequency: float = 440.0, level: float = 0.3) -> None:
        super().__init__()
        self._samples = AUDIO_RATE // 50
        self._pace = _Paced(50.0)
        self._step = 2 * math.pi * frequency / AUDIO_RATE
        self._level = level

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        index = await self._pace.next()
        start = index * self._samples
        t = np.arange(start, start + self._samples, dtype=np.float64)
        pcm = (np.sin(t * self._step) * self._level * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        return frame


class SwitchableTrack(MediaStreamTrack):
    """Relays whichever source is set; with none, `recv` waits and nothing is sent."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._source: MediaStreamTrack | None = None
        self._changed = asyncio.Event()

    @property
    def source(self) -> MediaStreamTrack | None:
        return self._source

    def set_source(self, source: MediaStreamTrack | None) -> None:
        old, self._source = self._source, source
        if old is not None and old is not source:
            old.stop()
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def stop(self) -> None:
        super().stop()
        self.set_source(None)

    async def recv(self) -> av.frame.Frame | av.packet.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            source, changed = self._source, self._changed
            if source is None:
                await changed.wait()
                continue
            getter = asyncio.ensure_future(source.recv())
            waiter = asyncio.ensure_future(changed.wait())
            try:
                done, _ = await asyncio.wait({getter, waiter}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                if not getter.done():
                    getter.cancel()
            if getter not in done:
                continue  # switched while waiting: read from the new source
            try:
                frame: av.frame.Frame | av.packet.Packet[Any] = getter.result()
            except MediaStreamError:
                if self._source is source:
                    self.set_source(None)
                continue
            except asyncio.CancelledError:
                continue
            return frame


async def drain(
    track: MediaStreamTrack, counter: list[int] | None = None, latest: list[Any] | None = None
) -> None:
    """Read a track until it ends, counting frames in `counter[0]` and keeping the newest in
    `latest[0]`, if given."""
    with contextlib.suppress(MediaStreamError):
        while True:
            frame = await track.recv()
            if counter is not None:
                counter[0] += 1
            if latest is not None:
                latest[0] = frame
