"""Spoken guidance: text read aloud through the kiosk's own speaker stream.

espeak-ng synthesises the text with its WAV on stdout (`--stdout`), read into memory: nothing
is written to disk, and the text goes in on stdin, so it is not in the process list either.
The samples go to the kiosk's own speaker stream (`AudioIO.say`), mixed there over whatever
else plays (a conference's waiting room may play sound), so the volume the patient chose
applies and no second stream opens the device. They are fed a little at a time, as the
buffer holds half a second; while a sound someone else queued in one go (the check's chime)
plays, the reading waits, so the chime is heard whole.

espeak-ng has a Norwegian bokmål voice, which reads nynorsk too, and English ones; none for
Northern Sami (`voice_for` says None).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import struct
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from kiosk.base.processes import kill_and_wait
from kiosk.devices.audio import BLOCK, SAMPLE_RATE
from kiosk.devices.ringbuffer import RingBuffer, Samples

log = logging.getLogger(__name__)

PROGRAM = "espeak-ng"
VOICES: dict[str, str] = {"nb": "nb", "nn": "nb", "en": "en-gb"}
WORDS_PER_MINUTE = 140  # espeak-ng's own 175 is quick for someone who hears poorly
PEAK = 0.45  # of full scale: "louder sound" doubles it without clipping
LEAD_S = 0.15  # queued ahead of the speaker
# More than this queued for the speaker at once is a sound played in one go (the chime), not
# a conference's stream: the reading waits for it.
BURST_S = 0.25
SYNTHESIS_TIMEOUT_S = 10.0
MAX_WAV_BYTES = 8 * 1024 * 1024  # about three minutes of espeak-ng's 22 kHz speech


class SpeechError(RuntimeError):
    """The synthesiser failed or said something that is not a mono 16-bit WAV."""


class SpeakerStream(Protocol):
    """What reading aloud needs of the audio devices (`AudioIO`)."""

    speaker_buffer: RingBuffer
    voice_buffer: RingBuffer

    def say(self, samples: Samples) -> None: ...


def voice_for(language: str) -> str | None:
    return VOICES.get(language)


def spoken_languages(program: str = PROGRAM) -> frozenset[str]:
    """The session languages this terminal can read aloud in."""
    return frozenset(VOICES) if shutil.which(program) else frozenset()


def parse_wav(data: bytes) -> tuple[int, Samples]:
    """Sample rate and samples of a mono 16-bit PCM WAV. espeak-ng writing to a pipe cannot
    go back to fill in the sizes, so the data chunk runs to the end of what came."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeechError("expected a RIFF/WAVE header from the synthesiser")
    offset, rate = 12, 0
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            struct.unpack("<I", data[offset + 4 : offset + 8])[0],
        )
        body = data[offset + 8 : offset + 8 + size]
        if chunk == b"fmt ":
            if len(body) < 16:
                raise SpeechError("expected a complete fmt chunk")
            fmt, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if (fmt, channels, bits) != (1, 1, 16):
                raise SpeechError(
                    f"expected mono 16-bit PCM, got format {fmt}, {channels} channels, {bits} bits"
                )
        elif chunk == b"data":
            if not rate:
                raise SpeechError("expected the fmt chunk before the data")
            usable = len(body) - len(body) % 2
            return rate, np.frombuffer(body[:usable], dtype="<i2").astype(np.int16)
        offset += 8 + size + size % 2
    raise SpeechError("expected a data chunk from the synthesiser")


def to_speaker(samples: Samples, rate: int, peak: float = PEAK) -> Samples:
    """At the speaker's rate, with the loudest sample at `peak` of full scale."""
    if len(samples) == 0:
        return np.zeros(0, np.int16)
    wave = samples.astype(np.float64)
    if rate != SAMPLE_RATE:
        count = round(len(wave) * SAMPLE_RATE / rate)
        wave = np.interp(np.arange(count) * rate / SAMPLE_RATE, np.arange(len(wave)), wave)
    loudest = float(np.max(np.abs(wave)))
    if loudest > 0:
        wave *= peak * 32767 / loudest
    return np.asarray(np.round(wave), dtype=np.int16)


def espeak_command(voice: str, program: str = PROGRAM) -> list[str]:
    """The synthesiser's command line: the WAV to stdout, the text from stdin (UTF-8)."""
    return [program, "--stdout", "--stdin", "-b", "1", "-v", voice, "-s", str(WORDS_PER_MINUTE)]


async def synthesise(text: str, voice: str, program: str = PROGRAM) -> Samples:
    """`text` spoken by espeak-ng in `voice`, as samples for the speaker."""
    process = await asyncio.create_subprocess_exec(
        *espeak_command(voice, program),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        wav, _ = await asyncio.wait_for(
            process.communicate(text.encode("utf-8")), SYNTHESIS_TIMEOUT_S
        )
    except BaseException:
        await kill_and_wait(process)
        raise
    if process.returncode != 0:
        raise SpeechError(f"{program} exited with {process.returncode}")
    if len(wav) > MAX_WAV_BYTES:
        raise SpeechError(f"expected at most {MAX_WAV_BYTES} bytes of speech, got {len(wav)}")
    rate, samples = parse_wav(wav)
    return to_speaker(samples, rate)


@dataclass(frozen=True)
class Utterance:
    """Something read aloud, as the tests and the log see it (screen texts, never a patient's)."""

    language: str
    voice: str
    chars: int
    seconds: float


class SpeechPlayer:
    """Reads texts aloud one after another; a new text either waits its turn or replaces
    what is being said. All on the event loop; `stop` is immediate but for `LEAD_S`."""

    def __init__(self, audio: SpeakerStream, program: str = PROGRAM) -> None:
        self._audio = audio
        self._program = program
        self._waiting: deque[tuple[str, str, str]] = deque()  # text, language, voice
        self._task: asyncio.Task[None] | None = None
        # Readings stopped but not yet wound down (a synthesiser being killed): `close` waits
        # for them too, so none is left pending when the loop ends.
        self._stopping: set[asyncio.Task[None]] = set()
        self.spoken: list[Utterance] = []  # what was played to the end, for tests
        self.failures = 0

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def voice_written(self) -> int:
        """Samples ever queued on the speaker's voice channel."""
        return self._audio.voice_buffer.written

    def say(self, text: str, language: str, queue: bool = False) -> bool:
        """Read `text` in `language`'s voice; False when there is none for it."""
        voice = voice_for(language)
        if voice is None or not text.strip():
            log.debug("nothing to read aloud in %s", language)
            return False
        if not queue:
            self.stop()
        self._waiting.append((text, language, voice))
        if not self.busy:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="speech")
        return True

    def stop(self) -> None:
        self._waiting.clear()
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)
        # What was queued goes too: a call that begins hears nothing of it.
        self._audio.voice_buffer.clear()

    async def close(self) -> None:
        self.stop()
        stopping = list(self._stopping)
        if stopping:
            await asyncio.gather(*stopping, return_exceptions=True)

    async def wait_quiet(self, start_grace_s: float, limit_s: float) -> None:
        """Wait until nothing is being read: first up to `start_grace_s` for a reading that is
        about to begin, then at most `limit_s` for it to end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + start_grace_s
        while not self.busy and loop.time() < deadline:
            await asyncio.sleep(0.02)
        deadline = loop.time() + limit_s
        while self.busy and loop.time() < deadline:
            await asyncio.sleep(0.05)

    async def _run(self) -> None:
        while self._waiting:
            text, language, voice = self._waiting.popleft()
            try:
                samples = await synthesise(text, voice, self._program)
            except (OSError, SpeechError, TimeoutError) as exc:
                # The patient still has the text on screen; the log says why it was silent.
                self.failures += 1
                log.warning("reading aloud failed: %s", exc)
                continue
            log.info("reading aloud: %d characters in voice %s", len(text), voice)
            await self._play(samples)
            self.spoken.append(
                Utterance(language, voice, len(text), round(len(samples) / SAMPLE_RATE, 2))
            )

    async def _play(self, samples: Samples) -> None:
        lead = int(LEAD_S * SAMPLE_RATE)
        burst = int(BURST_S * SAMPLE_RATE)
        position = 0
        holding = False
        while position < len(samples):
            queued = self._audio.speaker_buffer.available
            if queued > burst:
                holding = True
            elif queued <= 2 * BLOCK:
                holding = False
            room = lead - self._audio.voice_buffer.available
            if room >= BLOCK and not holding:
                chunk = samples[position : position + room - room % BLOCK]
                self._audio.say(chunk)
                position += len(chunk)
            await asyncio.sleep(BLOCK / SAMPLE_RATE)
