"""The far end's voice into the speaker: short losses concealed, long gaps left silent."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.media.tracks import SpeakerSink

RATE = 48_000
FRAME = 960  # 20 ms


class Voice(MediaStreamTrack):
    """Decoded frames as aiortc's receiver hands them on: their RTP time in `pts`, with the
    frames numbered in `lost` missing (stepped over by the jitter buffer)."""

    kind = "audio"

    def __init__(self, frames: int, lost: set[int]) -> None:
        super().__init__()
        self._numbers = iter(n for n in range(frames) if n not in lost)

    async def recv(self) -> av.AudioFrame:
        n = next(self._numbers, None)
        if n is None:
            raise MediaStreamError
        await asyncio.sleep(0)
        t = (np.arange(FRAME) + n * FRAME) / RATE
        tone = np.repeat((np.sin(2 * np.pi * 440 * t) * 10000).astype(np.int16), 2)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = n * FRAME
        frame.time_base = Fraction(1, RATE)
        return frame


class Speaker:
    def __init__(self) -> None:
        self.played: list[np.ndarray] = []

    def play(self, samples: np.ndarray) -> None:
        self.played.append(samples)


async def _play(frames: int, lost: set[int]) -> tuple[SpeakerSink, np.ndarray]:
    speaker = Speaker()
    sink = SpeakerSink(speaker)
    sink.start(Voice(frames, lost))
    for _ in range(1000):
        await asyncio.sleep(0)
        if sink._task is not None and sink._task.done():
            break
    await sink.stop()
    return sink, np.concatenate(speaker.played)


async def test_short_losses_are_concealed_and_time_is_kept() -> None:
    lost = {10, 11, 30, 55, 56, 57}
    sink, played = await _play(100, lost)
    assert sink.concealed == len(lost)
    assert sink.frames == 100
    # Every 20 ms of the far end's time is played: nothing shifts later sound.
    assert len(played) >= 99 * FRAME
    # The concealment is the voice again, quieter, not silence.
    chunk = played[10 * FRAME : 11 * FRAME].astype(np.float64)
    assert 0 < np.sqrt(np.mean(chunk**2)) < np.sqrt(np.mean(played[: 9 * FRAME].astype(float) ** 2))


async def test_a_long_gap_is_not_filled() -> None:
    lost = set(range(20, 40))  # 400 ms: a cut, not a loss
    sink, _ = await _play(60, lost)
    assert sink.concealed == 0
    assert sink.frames == 40
