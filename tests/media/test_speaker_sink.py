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

    def __init__(self, frames: int, lost: set[int], quiet: frozenset[int] = frozenset()) -> None:
        super().__init__()
        self._numbers = iter(n for n in range(frames) if n not in lost)
        self._quiet = quiet

    async def recv(self) -> av.AudioFrame:
        n = next(self._numbers, None)
        if n is None:
            raise MediaStreamError
        await asyncio.sleep(0)
        t = (np.arange(FRAME) + n * FRAME) / RATE
        level = 100 if n in self._quiet else 10000
        tone = np.repeat((np.sin(2 * np.pi * 440 * t) * level).astype(np.int16), 2)
        frame = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = n * FRAME
        frame.time_base = Fraction(1, RATE)
        return frame


class Speaker:
    """A speaker `behind_s` behind the far end, playing 20 ms between two frames: what it
    holds stays the same while every frame is played and shrinks by each one left out."""

    def __init__(self, behind_s: float = 0.0) -> None:
        self.played: list[np.ndarray] = []
        self.behind: list[float] = []
        self._queued = round(behind_s * RATE)

    def queued_s(self) -> float:
        self._queued = max(0, self._queued - FRAME)  # 20 ms played since the last frame
        self.behind.append(self._queued / RATE)
        return self._queued / RATE

    def play(self, samples: np.ndarray) -> None:
        self.played.append(samples)
        self._queued += len(samples)


async def _play(
    frames: int, lost: set[int], behind_s: float = 0.0, quiet: frozenset[int] = frozenset()
) -> tuple[SpeakerSink, np.ndarray]:
    return await _play_to(Speaker(behind_s), frames, lost, quiet)


async def _play_to(
    speaker: Speaker, frames: int, lost: set[int], quiet: frozenset[int] = frozenset()
) -> tuple[SpeakerSink, np.ndarray]:
    sink = SpeakerSink(speaker)
    sink.start(Voice(frames, lost, quiet))
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


async def test_a_speaker_behind_catches_up_in_the_pauses_between_words() -> None:
    # 0.25 s behind after a late burst; speech with a pause of 10 quiet frames from frame 20.
    speaker = Speaker(behind_s=0.25)
    quiet = frozenset(range(20, 30))
    sink, _ = await _play_to(speaker, 60, set(), quiet)
    assert sink.left_out == 6  # 0.23 s down to 0.11 s, 20 ms at a time, only in the pause
    assert sink.frames == 54
    # The voice itself is never cut: every loud frame played.
    assert sum(float(np.abs(p).max()) > 1000 for p in speaker.played) == 50
    assert speaker.behind[-1] == 0.11


async def test_far_behind_any_frame_is_left_out() -> None:
    speaker = Speaker(behind_s=0.5)
    sink, _ = await _play_to(speaker, 40, set())
    assert sink.left_out == 9  # 0.48 s down to 0.3 s though every frame is a voice
    assert speaker.behind[-1] == 0.3


async def test_a_loss_is_not_concealed_while_the_speaker_is_behind() -> None:
    sink, _ = await _play(40, {5, 6}, behind_s=0.2)
    assert sink.concealed == 0
    sink, _ = await _play(40, {5, 6})
    assert sink.concealed == 2
