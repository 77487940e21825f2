"""aiortc tracks over the device owners, and the speaker sink for the far end's audio."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from typing import Protocol

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.devices.audio import BLOCK, SAMPLE_RATE
from kiosk.devices.camera import CameraHub
from kiosk.devices.frames import I420Image, to_i420
from kiosk.devices.ringbuffer import Samples

log = logging.getLogger(__name__)

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


class MicrophoneSource(Protocol):
    def read_mic(self, count: int = BLOCK) -> Samples: ...


class AudioOutput(Protocol):
    def play(self, samples: Samples) -> None: ...


class _Pacer:
    """Sleeps until the n-th tick of a fixed rate, counted from the first call."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.ticks = 0
        self._start: float | None = None

    async def next(self) -> int:
        now = time.monotonic()
        if self._start is None:
            self._start = now
        else:
            self.ticks += 1
            due = self._start + self.ticks * self.interval
            if due > now:
                await asyncio.sleep(due - now)
            elif now - due > 10 * self.interval:
                # Far behind (the loop stalled): restart the schedule rather than burst.
                self._start = now - self.ticks * self.interval
        return self.ticks


class CameraVideoTrack(MediaStreamTrack):
    """The hub's newest frame at the hub's rate, converted once to the encoder's I420."""

    kind = "video"

    def __init__(self, hub: CameraHub) -> None:
        super().__init__()
        self._hub = hub
        self._pacer = _Pacer(1.0 / hub.fps)
        self._ticks_per_frame = VIDEO_CLOCK / hub.fps
        self._last_seq = -1
        self._last_i420: I420Image | None = None
        self.conversions = 0

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        tick = await self._pacer.next()
        latest = self._hub.latest()
        if latest is not None and latest.seq != self._last_seq:
            self._last_i420 = to_i420(latest.image)
            self._last_seq = latest.seq
            self.conversions += 1
        elif self._last_i420 is None:
            width, height = self._hub.size
            black = np.zeros((height * 3 // 2, width), np.uint8)
            black[height:] = 128
            self._last_i420 = black
        frame = av.VideoFrame.from_ndarray(self._last_i420, format="yuv420p")
        frame.pts = round(tick * self._ticks_per_frame)
        frame.time_base = VIDEO_TIME_BASE
        return frame


class MicrophoneAudioTrack(MediaStreamTrack):
    """20 ms frames of 48 kHz mono int16 from the microphone; silence when it has none."""

    kind = "audio"

    def __init__(self, microphone: MicrophoneSource) -> None:
        super().__init__()
        self._microphone = microphone
        self._pacer = _Pacer(BLOCK / SAMPLE_RATE)

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        tick = await self._pacer.next()
        samples = self._microphone.read_mic(BLOCK)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = tick * BLOCK
        frame.time_base = AUDIO_TIME_BASE
        return frame


class SpeakerSink:
    """Consumes a remote audio track into the speaker, as 48 kHz mono int16."""

    def __init__(self, output: AudioOutput) -> None:
        self._output = output
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._task: asyncio.Task[None] | None = None
        self.frames = 0
        self.samples = 0

    def start(self, track: MediaStreamTrack) -> None:
        if self._task is not None:
            raise RuntimeError("the speaker sink already plays a track")
        self._task = asyncio.get_running_loop().create_task(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                raise TypeError(f"expected audio frames from the remote track, got {type(frame)}")
            self.frames += 1
            for mono in self._resampler.resample(frame):
                samples = np.asarray(mono.to_ndarray(), dtype=np.int16).reshape(-1)
                self.samples += len(samples)
                self._output.play(samples)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
