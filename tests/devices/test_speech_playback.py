"""Reading aloud through the kiosk's own speaker stream, heard on the PulseAudio null sink's
monitor: order, interruption, the patient's volume, a queued chime left whole, and a
conference's sound going on under the reading."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np

from kiosk.checks.tones import CHIME_NOTES_HZ, NOTE_S, chime, tone_dbfs
from kiosk.devices.audio import BLOCK, SAMPLE_RATE, AudioIO
from kiosk.devices.speech import SpeechPlayer, Utterance
from tests.checks.audio import running_audio
from tests.support.pulse import PulseServer


class Monitor:
    """What the speaker sink plays, as the microphone (its monitor) hears it, with times."""

    def __init__(self, audio: AudioIO) -> None:
        self._audio = audio
        self.blocks: list[tuple[float, np.ndarray]] = []
        self._task: asyncio.Task[None] | None = None

    async def _drain(self) -> None:
        while True:
            got = self._audio.mic_buffer.read(SAMPLE_RATE)
            now = time.monotonic()
            for i in range(0, len(got) - BLOCK + 1, BLOCK):
                at = now - (len(got) - i) / SAMPLE_RATE
                self.blocks.append((at, got[i : i + BLOCK]))
            await asyncio.sleep(0.02)

    def rms_dbfs(self, start: float, end: float) -> float:
        chosen = [b for at, b in self.blocks if start <= at < end]
        if not chosen:
            return -100.0
        samples = np.concatenate(chosen).astype(np.float64) / 32768
        return float(20 * np.log10(max(1e-5, np.sqrt(np.mean(samples**2)))))

    def samples(self, start: float, end: float) -> np.ndarray:
        return np.concatenate([b for at, b in self.blocks if start <= at < end])


@asynccontextmanager
async def listening(pulse: PulseServer) -> AsyncIterator[tuple[AudioIO, Monitor]]:
    async with running_audio() as audio:
        audio.volume = 1.0
        monitor = Monitor(audio)
        audio.mic_buffer.clear()
        monitor._task = asyncio.get_running_loop().create_task(monitor._drain())
        try:
            yield audio, monitor
        finally:
            monitor._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await monitor._task


async def said(player: SpeechPlayer, timeout: float = 20.0) -> None:
    await asyncio.sleep(0.05)
    await player.wait_quiet(0.5, timeout)
    assert not player.busy


async def test_texts_are_read_in_turn_and_a_new_screen_cuts_in(pulse_server: PulseServer) -> None:
    async with listening(pulse_server) as (audio, monitor):
        player = SpeechPlayer(audio)
        quiet = monitor.rms_dbfs(0, time.monotonic())
        start = time.monotonic()
        assert player.say("Du banker på.", "nb")
        assert player.say("Tap to start.", "en", queue=True)
        await said(player)
        first_end = time.monotonic()
        assert [(u.language, u.voice) for u in player.spoken] == [("nb", "nb"), ("en", "en-gb")]
        assert monitor.rms_dbfs(start, first_end) > -35

        # A screen change replaces what is being read; the first text is never finished.
        assert player.say("Skriv det sekssifrede nummeret fra tekstmeldingen.", "nn")
        await asyncio.sleep(0.6)
        assert player.say("Vent litt.", "nb")
        await said(player)
        assert [u.chars for u in player.spoken[2:]] == [len("Vent litt.")]

        # Stopped: silence within the short lead the player keeps queued.
        assert player.say("Skriv det sekssifrede nummeret fra tekstmeldingen.", "nb")
        await asyncio.sleep(0.8)
        player.stop()
        stopped = time.monotonic()
        await asyncio.sleep(0.8)
        assert monitor.rms_dbfs(stopped + 0.35, time.monotonic()) < -60
        assert not player.say("Bures boahtin.", "se")  # no voice for Northern Sami
        assert player.failures == 0 and quiet < -60
        await player.close()


async def test_the_patients_volume_applies_to_the_reading(pulse_server: PulseServer) -> None:
    text = "Stay in front of the screen. You do not need to do anything."
    levels = []
    async with listening(pulse_server) as (audio, monitor):
        player = SpeechPlayer(audio)
        for volume in (0.8, 1.6):  # the default, and "louder sound"
            audio.volume = volume
            start = time.monotonic()
            player.say(text, "en")
            await said(player)
            levels.append(monitor.rms_dbfs(start, time.monotonic()))
        await player.close()
    assert 4.5 < levels[1] - levels[0] < 7.5, levels  # +6 dB


async def test_a_chime_already_queued_plays_whole_before_the_reading(
    pulse_server: PulseServer,
) -> None:
    async with listening(pulse_server) as (audio, monitor):
        player = SpeechPlayer(audio)
        dropped = audio.speaker_buffer.dropped
        start = time.monotonic()
        audio.play(chime())
        player.say("Lytt: kiosken spiller en lyd nå.", "nb")
        await said(player)
        end = time.monotonic()
        await player.close()
    assert audio.speaker_buffer.dropped == dropped
    # Each note stands alone in its 200 ms: a pure tone's peak is 3 dB over its RMS, and
    # speech mixed in would lower that.
    recorded = monitor.samples(start, end)
    loud = np.flatnonzero(np.abs(recorded) > 3000)
    assert len(loud), "nothing was played"
    onset = int(loud[0])
    purity = []
    for index, hz in enumerate(CHIME_NOTES_HZ):
        note = int(NOTE_S * SAMPLE_RATE)
        segment = recorded[onset + index * note + 960 : onset + (index + 1) * note - 960]
        total = 20 * np.log10(np.sqrt(np.mean((segment.astype(np.float64) / 32768) ** 2)))
        purity.append(tone_dbfs(segment, hz) - total)
    assert all(p > 2.5 for p in purity), purity
    assert isinstance(player.spoken[0], Utterance) and len(player.spoken) == 1


async def test_a_stream_from_the_conference_goes_on_under_the_reading(
    pulse_server: PulseServer,
) -> None:
    """Mixed, not taking turns: the stream's tone holds its level through the reading."""
    tone_hz = 7000.0  # above what the voice carries, so its level is the stream's alone
    async with listening(pulse_server) as (audio, monitor):
        player = SpeechPlayer(audio)

        async def conference() -> None:
            # As a call's track delivers: kept 60 ms ahead of the speaker, by the clock.
            written, began = 0, time.monotonic()
            while True:
                due = int((time.monotonic() - began + 0.06) * SAMPLE_RATE)
                if due > written:
                    t = (np.arange(written, due)) / SAMPLE_RATE
                    audio.play((np.sin(2 * np.pi * tone_hz * t) * 0.1 * 32767).astype(np.int16))
                    written = due
                await asyncio.sleep(BLOCK / SAMPLE_RATE)

        stream = asyncio.get_running_loop().create_task(conference())
        await asyncio.sleep(1.0)
        start = time.monotonic()
        player.say("Du banker på. Behandleren slipper deg inn snart.", "nb")
        await said(player)
        end = time.monotonic()
        stream.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stream
        await player.close()
    recorded = monitor.samples(start, end)
    window = SAMPLE_RATE // 10
    levels = [
        tone_dbfs(recorded[i : i + window], tone_hz)
        for i in range(0, len(recorded) - window, window)
    ]
    speech = monitor.rms_dbfs(start, end)
    assert len(levels) > 15 and speech > -30
    # 0.1 of full scale reads -20 dBFS. Taking turns with the reading in one queue would cut
    # the stream in most windows; a loaded machine may make the stream itself late in a few.
    steady = [level for level in levels if abs(level + 20.0) < 1.5]
    assert len(steady) >= 0.85 * len(levels), levels
    assert player.spoken and player.failures == 0
