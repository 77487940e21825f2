"""aiortc tracks over the device owners, and the speaker sink for the far end's audio."""

from __future__ import annotations

import asyncio
import fractions
import logging
import time
from dataclasses import dataclass
from typing import Protocol

import av
import cv2
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.base.frames import BgrFrame as BgrImage
from kiosk.base.frames import I420Frame as I420Image
from kiosk.base.tasks import cancel_and_wait
from kiosk.devices.audio import BLOCK, SAMPLE_RATE
from kiosk.devices.camera import CameraHub
from kiosk.devices.ringbuffer import Samples, measure

log = logging.getLogger(__name__)

VIDEO_CLOCK = 90_000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)


class MicrophoneSource(Protocol):
    def read_mic(self, count: int = BLOCK) -> Samples: ...


class AudioOutput(Protocol):
    def play(self, samples: Samples) -> None: ...

    def queued_s(self) -> float:
        """Sound written and not yet played, in seconds."""
        ...


class _Pacer:
    """Sleeps until the next tick of a rate that may change between ticks."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.ticks = 0
        self._start: float | None = None
        self._due = 0.0

    async def next(self) -> int:
        """Wait for the next tick; returns its number (the first is 0)."""
        now = time.monotonic()
        if self._start is None:
            self._start = self._due = now
        else:
            self.ticks += 1
            self._due += self.interval
            if self._due > now:
                await asyncio.sleep(self._due - now)
            elif now - self._due > 10 * self.interval:
                # Far behind (the loop stalled): restart the schedule rather than burst.
                self._due = now
        return self.ticks

    @property
    def elapsed(self) -> float:
        """Scheduled time of the current tick, counted from the first."""
        return 0.0 if self._start is None else self._due - self._start


@dataclass(frozen=True)
class SendFormat:
    """What the camera track sends: picture size and frame rate."""

    width: int
    height: int
    fps: float

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0 or self.width % 2 or self.height % 2:
            raise ValueError(f"expected an even, positive size, got {self.width}x{self.height}")
        if not 0 < self.fps <= 30:
            raise ValueError(f"expected a frame rate within (0, 30], got {self.fps}")


class CameraVideoTrack(MediaStreamTrack):
    """The hub's newest frame, scaled once to the send size and converted once to I420.

    The size and rate follow `set_format` (the adaptive quality controller); buffers are
    allocated when the format changes, never per frame. Frames handed to the encoder are
    counted, so the sent frame rate is known without help from aiortc."""

    kind = "video"

    def __init__(self, hub: CameraHub, send: SendFormat | None = None) -> None:
        super().__init__()
        self._hub = hub
        width, height = hub.size
        self._format = send or SendFormat(width, height, min(hub.fps, 30.0))
        self._pacer = _Pacer(1.0 / self._format.fps)
        self._last_seq = -1
        self._scaled: BgrImage | None = None
        self._i420: I420Image = _black_i420(self._format)
        self.conversions = 0
        self.frames_sent = 0

    @property
    def send_format(self) -> SendFormat:
        return self._format

    @property
    def source_size(self) -> tuple[int, int]:
        """The camera's picture size: nothing larger is ever sent."""
        width, height = self._hub.size
        return int(width), int(height)

    def set_format(self, send: SendFormat) -> None:
        """Send at this size and rate from the next frame on."""
        if send == self._format:
            return
        resized = (send.width, send.height) != (self._format.width, self._format.height)
        self._format = send
        self._pacer.interval = 1.0 / send.fps
        if resized:
            self._scaled = None
            self._i420 = _black_i420(send)
            self._last_seq = -1

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        await self._pacer.next()
        latest = self._hub.latest()
        if latest is not None and latest.seq != self._last_seq:
            self._convert(latest.image)
            self._last_seq = latest.seq
            self.conversions += 1
        frame = av.VideoFrame.from_ndarray(self._i420, format="yuv420p")
        frame.pts = round(self._pacer.elapsed * VIDEO_CLOCK)
        frame.time_base = VIDEO_TIME_BASE
        self.frames_sent += 1
        return frame

    def _convert(self, image: BgrImage) -> None:
        send = self._format
        image = crop_to_aspect(image, send.width, send.height)
        height, width = image.shape[:2]
        if (width, height) != (send.width, send.height):
            if self._scaled is None:
                self._scaled = np.empty((send.height, send.width, 3), np.uint8)
            cv2.resize(image, (send.width, send.height), self._scaled, 0, 0, cv2.INTER_AREA)
            image = self._scaled
        cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420, self._i420)


def crop_to_aspect(image: BgrImage, width: int, height: int) -> BgrImage:
    """The centre of `image` in the shape of `width` x `height` (a view, nothing copied).

    The rungs are 4:3 and most cameras 16:9: scaled whole, a 16:9 picture sent as 640x480
    would make the patient a third taller and thinner, and an ID card's proportions wrong at
    the clinician's end. Cut from the sides (or top and bottom) instead."""
    rows, cols = image.shape[:2]
    if cols * height > rows * width:  # wider than wanted
        keep = max(1, round(rows * width / height))
        left = (cols - keep) // 2
        return image[:, left : left + keep]
    if cols * height < rows * width:  # taller than wanted
        keep = max(1, round(cols * height / width))
        top = (rows - keep) // 2
        return image[top : top + keep]
    return image


def _black_i420(send: SendFormat) -> I420Image:
    black = np.zeros((send.height * 3 // 2, send.width), np.uint8)
    black[send.height :] = 128
    return black


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


# A frame's time (its RTP time) jumping ahead means lost packets that the jitter buffer
# stepped over. Up to this much is concealed with the last 20 ms again, fading; a longer
# jump is a cut, and silence then tells the patient the truth.
MAX_CONCEAL_S = 0.12
CONCEAL_CHUNK = SAMPLE_RATE // 50  # 20 ms

# The speaker's buffer absorbs jitter by growing: a late packet leaves it empty, and the
# packets behind it then find it that much fuller. Nothing else would ever shrink it, and
# the clinician would be heard later for the rest of the call after one bad second. So once
# more than CATCH_UP_ABOVE_S waits, a quiet frame (a pause between words) is left out and a
# loss is not concealed; above CATCH_UP_ALWAYS_ABOVE_S any frame is left out.
CATCH_UP_ABOVE_S = 0.12
CATCH_UP_ALWAYS_ABOVE_S = 0.3
QUIET_DBFS = -40.0  # room noise, not a voice


class SpeakerSink:
    """Consumes a remote audio track into the speaker, as 48 kHz mono int16, concealing short
    losses and catching up when the speaker falls behind. `frames` counts the 20 ms frames
    played, concealed ones (`concealed`) included; `left_out` those left out to catch up."""

    def __init__(self, output: AudioOutput) -> None:
        self._output = output
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._task: asyncio.Task[None] | None = None
        self._last_chunk: Samples | None = None
        self.frames = 0
        self.samples = 0
        self.concealed = 0
        self.left_out = 0

    def start(self, track: MediaStreamTrack) -> None:
        if self._task is not None:
            raise RuntimeError("the speaker sink already plays a track")
        self._task = asyncio.get_running_loop().create_task(self._run(track))

    async def _run(self, track: MediaStreamTrack) -> None:
        expected: float | None = None
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.AudioFrame):
                raise TypeError(f"expected audio frames from the remote track, got {type(frame)}")
            behind_s = self._output.queued_s()
            at = frame.time
            if at is not None:
                lost_s = 0.0 if expected is None else at - expected
                if 0 < lost_s <= MAX_CONCEAL_S and behind_s <= CATCH_UP_ABOVE_S:
                    self._conceal(lost_s)
                expected = at + frame.samples / frame.sample_rate
            chunks = [
                np.asarray(mono.to_ndarray(), dtype=np.int16).reshape(-1)
                for mono in self._resampler.resample(frame)
            ]
            if behind_s > CATCH_UP_ALWAYS_ABOVE_S or (
                behind_s > CATCH_UP_ABOVE_S
                and all(measure(chunk).rms_dbfs < QUIET_DBFS for chunk in chunks)
            ):
                self.left_out += 1
                continue
            self.frames += 1
            for samples in chunks:
                self.samples += len(samples)
                self._output.play(samples)
                if len(samples) >= CONCEAL_CHUNK:
                    self._last_chunk = samples[-CONCEAL_CHUNK:]

    def _conceal(self, seconds: float) -> None:
        """Play the last 20 ms again for each lost one, each time quieter."""
        last = self._last_chunk
        if last is None:
            return
        count = round(seconds * 50)
        for index in range(count):
            gain = 0.8 ** (index + 1)
            self._output.play((last.astype(np.float32) * gain).astype(np.int16))
            self.samples += CONCEAL_CHUNK
        self.frames += count
        self.concealed += count

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        await cancel_and_wait(task)
