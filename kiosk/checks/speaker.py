"""Does the speaker play? A chime through `AudioIO`, listened for on the microphone.

Each chime note is looked for in the microphone's 20 ms blocks at its own frequency, against
the level at that frequency just before the chime (the room's noise floor there). Not heard
is not proof of silence (the microphone may simply not pick the speaker up), so it warns and
asks the patient ("speaker.confirm"); only a missing speaker fails.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from kiosk.base.status import CheckStatus
from kiosk.checks.tones import CHIME_NOTES_HZ, NOTE_S, chime, tone_levels
from kiosk.checks.verdict import CheckResult, History
from kiosk.devices.audio import AudioIO
from kiosk.devices.ringbuffer import Samples

PRE_ROLL_S = 0.3
TAIL_S = 0.6  # speaker and microphone latency on top of the chime itself
ABOVE_FLOOR_DB = 15.0
MIN_TONE_DBFS = -70.0
MIN_BLOCKS = 3  # of a note's ten blocks
ATTEMPTS = 2
RETRY_AFTER_S = 1.0
MISSING_POLL_S = 0.5


def _power_mean_db(levels: list[float]) -> float:
    return float(10 * np.log10(np.mean(np.power(10.0, np.asarray(levels) / 10.0))))


def heard(before: list[Samples], during: list[Samples]) -> tuple[bool, tuple[float, ...]]:
    """Whether every chime note stands out of the floor; the figures are each note's margin in
    dB of its loudest block over the floor."""
    floors = [
        _power_mean_db([tone_levels(b)[i] for b in before]) if before else -100.0
        for i in range(len(CHIME_NOTES_HZ))
    ]
    levels = [tone_levels(b) for b in during]
    margins: list[float] = []
    ok = True
    for i, floor in enumerate(floors):
        threshold = max(floor + ABOVE_FLOOR_DB, MIN_TONE_DBFS)
        note = [lv[i] for lv in levels]
        margins.append(round(max(note, default=-100.0) - floor, 1))
        ok &= sum(v >= threshold for v in note) >= MIN_BLOCKS
    return ok, tuple(margins)


class SpeakerCheck:
    name = "speaker"

    def __init__(self) -> None:
        self._before: list[Samples] = []
        self._during: list[Samples] = []
        self._phase = "idle"  # idle, pre_roll, listening
        self._result = CheckResult(self.name, CheckStatus.RUNNING, "speaker.playing")
        self.history = History()
        self.history.note(self._result)

    @property
    def busy(self) -> bool:
        """True while the chime is (about to be) in the air: the microphone check must not take
        it for the patient's voice."""
        return self._phase != "idle"

    def feed(self, block: Samples, at: float) -> None:
        if self._phase == "pre_roll":
            self._before.append(block)
        elif self._phase == "listening":
            self._during.append(block)

    def result(self) -> CheckResult:
        return self._result

    def _set(self, result: CheckResult) -> None:
        self._result = self.history.note(result)

    async def run(self, audio: AudioIO) -> None:
        attempt = 0
        while attempt < ATTEMPTS:
            if audio.speaker_missing:
                self._set(CheckResult(self.name, CheckStatus.FAIL, "speaker.missing"))
                await asyncio.sleep(MISSING_POLL_S)
                continue
            attempt += 1
            if await self._attempt(audio):
                return
            await asyncio.sleep(RETRY_AFTER_S)

    async def _attempt(self, audio: AudioIO) -> bool:
        self._before, self._during = [], []
        self._phase = "pre_roll"
        await asyncio.sleep(PRE_ROLL_S)
        self._phase = "listening"
        started = time.monotonic()
        audio.play(chime())
        try:
            await asyncio.sleep(len(CHIME_NOTES_HZ) * NOTE_S + TAIL_S)
        finally:
            self._phase = "idle"
        if audio.microphone_missing:
            self._set(CheckResult(self.name, CheckStatus.WARN, "speaker.confirm"))
            return False
        ok, margins = heard(self._before, self._during)
        figures = tuple(
            (f"margin_{int(hz)}_db", m) for hz, m in zip(CHIME_NOTES_HZ, margins, strict=True)
        )
        figures += (("listened_s", round(time.monotonic() - started, 2)),)
        if ok:
            self._set(CheckResult(self.name, CheckStatus.PASS, "speaker.ok", figures))
            return True
        self._set(CheckResult(self.name, CheckStatus.WARN, "speaker.confirm", figures))
        return False
