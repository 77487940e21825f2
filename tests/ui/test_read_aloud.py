"""Reading aloud, by touch on the real engine: the patient turns it on at the start screen and
each screen's instruction (and the checks' advice) is heard on the speaker sink, in bokmål
and in English; once the clinician lets the patient in, nothing more is said. What reaches
the sink is recorded from outside the kiosk (parec on the sink's monitor)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import numpy as np
import pytest

from kiosk.base.processes import kill_and_wait
from kiosk.cli.demo import demo_config, demo_node
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.devices.audio import SAMPLE_RATE
from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from tests.support.pulse import PulseServer

FRAME_S = 0.05
# Where the kiosk's other sounds sit: the practitioner bot's tone (440 Hz) and the check's
# chime (880 and 1320 Hz) with their first harmonics. Speech is what is left between 200 Hz
# and 4 kHz.
TONES_HZ = (440.0, 880.0, 1320.0, 1760.0, 2640.0)
NOTCH_HZ = 60.0
SPEECH_DBFS = -40.0
ADMIT_AFTER_S = 25.0


class SinkRecorder:
    """The speaker sink's monitor, recorded in memory with the time each sample arrived."""

    def __init__(self, pulse: PulseServer) -> None:
        self._pulse = pulse
        self._chunks: list[tuple[float, np.ndarray]] = []
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        env = {**os.environ, "PULSE_SERVER": self._pulse.server}
        self._process = await asyncio.create_subprocess_exec(
            "parec", "--raw", "--format=s16le", "--rate=48000", "--channels=1",
            "--latency-msec=20", f"--device={self._pulse.speaker_sink}.monitor",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=env,
        )  # fmt: skip
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        leftover = b""
        while True:
            data = await self._process.stdout.read(9600)
            if not data:
                return
            data = leftover + data
            usable = len(data) - len(data) % 2
            leftover = data[usable:]
            self._chunks.append((time.monotonic(), np.frombuffer(data[:usable], "<i2")))

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._process is not None and self._process.returncode is None:
            await kill_and_wait(self._process)

    def between(self, start: float, end: float) -> np.ndarray:
        picked = []
        for arrived, samples in self._chunks:
            first = arrived - len(samples) / SAMPLE_RATE
            if arrived > start and first < end:
                picked.append(samples)
        return np.concatenate(picked) if picked else np.zeros(0, np.int16)

    def speech_seconds(self, start: float, end: float) -> float:
        """How long, between `start` and `end`, the sink carried speech: 50 ms frames whose
        energy between 200 Hz and 4 kHz, outside the kiosk's tones, is above -40 dBFS."""
        samples = self.between(start, end).astype(np.float64) / 32768
        size = int(FRAME_S * SAMPLE_RATE)
        freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
        band = (freqs >= 200) & (freqs <= 4000)
        for hz in TONES_HZ:
            band &= np.abs(freqs - hz) > NOTCH_HZ
        window = np.hanning(size)
        frames = 0
        for offset in range(0, len(samples) - size + 1, size):
            spectrum = np.abs(np.fft.rfft(samples[offset : offset + size] * window)) ** 2
            # As the power of a signal with this spectrum (Parseval, Hann window).
            power = 2 * spectrum[band].sum() / (np.sum(window**2) * size)
            frames += 10 * np.log10(power + 1e-12) > SPEECH_DBFS
        return frames * FRAME_S


@asynccontextmanager
async def recording(pulse: PulseServer) -> AsyncIterator[SinkRecorder]:
    recorder = SinkRecorder(pulse)
    await recorder.start()
    try:
        yield recorder
    finally:
        await recorder.stop()


def voice_samples(engine: Engine) -> int:
    """Samples ever queued on the speaker stream's voice channel."""
    return engine.speech.voice_written


async def read_out(engine: Engine, limit_s: float = 20.0) -> None:
    """Until the screen's reading has begun and ended."""
    await engine.speech.wait_quiet(2.0, limit_s)


@pytest.mark.parametrize("language", ["nb", "en"])
async def test_each_screen_is_read_aloud_on_the_speaker_and_nothing_in_the_call(
    language: str, kivy_display: str, pulse_server: PulseServer
) -> None:
    from kiosk.ui.testing import run_app

    heard: dict[str, float] = {}
    async with demo_node(admit_after_s=ADMIT_AFTER_S) as demo:
        # A small picture: what is judged here is the sound, and a 720p picture at 30 fps
        # encoded both ways on two busy cores can starve the call of its first packets.
        camera = KioskConfig(camera="synthetic", camera_width=640, camera_height=480, camera_fps=15)
        config = demo_config(demo.base_url, camera)
        async with (
            running_engine(config) as engine,
            run_app(engine) as pilot,
            recording(pulse_server) as sink,
        ):

            async def screen(name: str, since: float) -> None:
                await read_out(engine)
                heard[name] = sink.speech_seconds(since, time.monotonic())

            await asyncio.sleep(0.5)
            quiet_since = time.monotonic()
            if language != "nb":
                await pilot.tap(f"lang_{language}")
                await pilot.wait_for(lambda: pilot.app.language == language, what=language)
            await asyncio.sleep(1.0)
            heard["before"] = sink.speech_seconds(quiet_since, time.monotonic())

            since = time.monotonic()
            await pilot.tap("read_aloud")
            await screen("idle", since)

            since = time.monotonic()
            await pilot.tap("start")
            await pilot.wait_for_screen("number")
            await screen("number", since)
            for digit in demo.room.alias:
                await pilot.tap(f"key_{digit}")

            since = time.monotonic()
            await pilot.tap("submit")
            await pilot.wait_for_screen("checks")
            await pilot.wait_for(
                lambda: engine.state.checks is not None and engine.state.checks.complete,
                # The picture checks need a few seconds of analysed frames; more on a busy
                # machine.
                timeout=60,
                what="every check answered",
                explain=lambda: f"checks: {engine.state.checks}",
            )
            await asyncio.sleep(1.0)  # the advice is asked for as the results settle
            await screen("checks", since)

            since = time.monotonic()
            await pilot.tap("continue")
            await pilot.wait_for_screen("waiting", timeout=20)
            await screen("waiting", since)
            assert engine.state.phase.value == "waiting", "admitted before the reading ended"
            # Each of the patient's screens was heard before the call: judged here, so a
            # call that fails to start does not hide what the reading did.
            assert heard["before"] < 0.1, heard
            for name in ("idle", "number", "checks", "waiting"):
                assert heard[name] >= 1.0, (name, heard)

            await pilot.wait_for_screen("in_call", timeout=30)
            # On a loaded machine the call may be rebuilt once before its media settles.
            await pilot.wait_for(
                lambda: engine.state.phase.value == "in_call" and engine.state.remote_media,
                timeout=40,
                what="the clinician's media",
            )
            # The screen would not ask in a call; were it to, the session still says no.
            utterances, voice_written = len(engine.speech.spoken), voice_samples(engine)
            engine.send(ev.ReadAloud("This must not be heard."))
            since = time.monotonic()
            await asyncio.sleep(4.0)
            # Judged where the kiosk's speech would go, the speaker stream's voice channel: on
            # the sink, the clinician's tone with the clicks of a busy machine's playback cannot
            # be told from speech by its spectrum.
            assert len(engine.speech.spoken) == utterances
            assert voice_samples(engine) == voice_written
            call_level = float(
                np.sqrt(np.mean((sink.between(since, time.monotonic()) / 32768.0) ** 2))
            )

            await pilot.tap("hang_up")
            await pilot.wait_for_screen("ended")
            spoken = [(u.language, u.voice) for u in engine.speech.spoken]
    print("HEARD", heard, call_level)
    voice = "nb" if language == "nb" else "en-gb"
    assert call_level > 0.05, "the clinician's tone should be playing in the call"
    assert spoken and set(spoken) == {(language, voice)}, spoken
    assert engine.speech.failures == 0
