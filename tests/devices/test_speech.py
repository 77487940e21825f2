"""Synthesis for reading aloud: espeak-ng's own output read from its stdout, the voices per
language, and a trace of every system call showing that nothing reaches the disk."""

from __future__ import annotations

import asyncio
import re
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kiosk.devices.audio import SAMPLE_RATE
from kiosk.devices.ringbuffer import RingBuffer
from kiosk.devices.speech import (
    PEAK,
    PROGRAM,
    SpeechError,
    SpeechPlayer,
    espeak_command,
    parse_wav,
    spoken_languages,
    synthesise,
    to_speaker,
    voice_for,
)


def speech_band_share(samples: np.ndarray) -> float:
    """Share of the energy between 200 Hz and 4 kHz, where speech carries its vowels."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    band = (freqs >= 200) & (freqs <= 4000)
    return float(spectrum[band].sum() / spectrum.sum())


def test_each_session_language_has_its_voice_and_sami_has_none() -> None:
    assert [voice_for(code) for code in ("nb", "nn", "en", "se")] == ["nb", "nb", "en-gb", None]
    assert spoken_languages() == {"nb", "nn", "en"}
    assert spoken_languages("no-such-synthesiser") == frozenset()


@pytest.mark.parametrize(
    ("voice", "text"),
    [("nb", "Skriv det sekssifrede nummeret fra tekstmeldingen."), ("en-gb", "Tap to start.")],
)
async def test_speech_comes_from_espeak_stdout_at_the_speaker_rate(voice: str, text: str) -> None:
    samples = await synthesise(text, voice)
    seconds = len(samples) / SAMPLE_RATE
    assert samples.dtype == np.int16
    assert 0.5 < seconds < 8.0, seconds
    assert np.max(np.abs(samples)) == pytest.approx(PEAK * 32767, rel=0.01)
    assert speech_band_share(samples) > 0.8


async def test_a_failing_synthesiser_is_a_speech_error(tmp_path: Path) -> None:
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(SpeechError, match="exited with 3"):
        await synthesise("Tap to start", "en-gb", program=str(broken))


def test_synthesis_writes_nothing_to_disk_and_keeps_the_text_off_the_command_line(
    tmp_path: Path,
) -> None:
    if shutil.which("strace") is None:
        pytest.fail("expected strace on PATH (Debian package strace)")
    text = "Du banker på. Behandleren slipper deg inn snart."
    command = espeak_command("nb")
    assert command[0] == PROGRAM and "--stdout" in command and text not in " ".join(command)
    trace = tmp_path / "trace"
    # One file per thread (-ff): in a shared one, a call that another thread interrupts is
    # split into "unfinished" and "resumed" lines, and its result is lost to the checks below.
    calls_traced = "trace=%file,%desc,memfd_create,recvmsg"
    traced = ["strace", "-ff", "-qq", "-e", calls_traced, "-o", str(trace)]
    done = subprocess.run(
        [*traced, *command],
        input=text.encode(),
        capture_output=True,
        timeout=30,
        check=True,
    )
    rate, samples = parse_wav(done.stdout)
    assert rate == 22050 and len(samples) > rate
    calls = [
        f"{part.suffix[1:]} {line}"
        for part in tmp_path.glob("trace.*")
        for line in part.read_text().splitlines()
    ]
    assert calls, "expected strace to write a trace for each process"
    opened_for_writing = [
        line for line in calls if re.search(r"open(at)?\(.*O_(WRONLY|RDWR|CREAT|TRUNC)", line)
    ]
    # libpulse, linked into espeak-ng, sizes shared memory it made with memfd_create: RAM.
    in_memory: set[tuple[str, str]] = set()
    for line in calls:
        made = re.match(r"(\d+) +memfd_create\(.*\) += (\d+)", line)
        if made is not None:
            in_memory.add((made[1], made[2]))
    changed = []
    for line in calls:
        sized = re.match(r"(\d+) +ftruncate\((\d+),", line)
        if sized is not None and (sized[1], sized[2]) in in_memory:
            continue
        if re.search(r"\b(creat|rename|renameat2?|link|linkat|truncate|ftruncate)\(", line):
            changed.append(line)
    # Every write goes to stdout (the WAV), stderr, or a pipe or event counter inside the
    # process or shared with the sound server (libpulse's wake-ups when one is about, as on a
    # terminal: the server hands its event counters over the socket).
    internal = {"1", "2"}
    for line in calls:
        piped = re.search(r"\bpipe2?\(\[(\d+), (\d+)\]", line)
        if piped is not None:
            internal.update(piped.groups())
        handed = re.search(r"SCM_RIGHTS, cmsg_data=\[([\d, ]+)\]", line)
        if handed is not None:
            internal.update(fd.strip() for fd in handed[1].split(","))
        counter = re.search(r"\beventfd2?\(.*\) += (\d+)", line)
        if counter is not None:
            internal.add(counter[1])
    writes = [
        line
        for line in calls
        if (written := re.search(r"\b(p?write|writev|pwritev2?)\((\d+),", line)) is not None
        and written[2] not in internal
    ]
    assert (opened_for_writing, changed, writes) == ([], [], [])


def _wav(fmt: int, channels: int, bits: int, data: bytes) -> bytes:
    body = struct.pack("<HHIIHH", fmt, channels, 22050, 22050 * channels * bits // 8, 2, bits)
    return (
        b"RIFF\xff\xff\xff\x7fWAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + body
        + b"data\x00\xf0\xff\x7f"
        + data
    )


def test_a_wav_from_a_pipe_runs_to_its_end_and_anything_else_is_refused() -> None:
    samples = np.array([0, 1000, -1000, 32767], np.int16)
    rate, parsed = parse_wav(_wav(1, 1, 16, samples.tobytes() + b"\x01"))
    assert rate == 22050 and parsed.tolist() == samples.tolist()
    for bad, message in [
        (b"not a wav at all", "RIFF/WAVE"),
        (_wav(1, 2, 16, b"\x00" * 8), "mono 16-bit PCM"),
        (_wav(3, 1, 32, b"\x00" * 8), "mono 16-bit PCM"),
        (b"RIFF\x04\x00\x00\x00WAVE", "data chunk"),
    ]:
        with pytest.raises(SpeechError, match=message):
            parse_wav(bad)


def test_to_speaker_resamples_and_sets_the_level() -> None:
    t = np.arange(22050) / 22050
    tone = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)
    out = to_speaker(tone, 22050)
    assert len(out) == SAMPLE_RATE
    assert np.max(np.abs(out)) == pytest.approx(PEAK * 32767, rel=0.01)
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)
    assert to_speaker(np.zeros(0, np.int16), 22050).tolist() == []


class _Speaker:
    def __init__(self) -> None:
        self.speaker_buffer = RingBuffer(SAMPLE_RATE)
        self.voice_buffer = RingBuffer(SAMPLE_RATE)

    def say(self, samples: np.ndarray) -> None:
        self.voice_buffer.write(samples)


async def test_a_reading_stopped_mid_synthesis_is_wound_down_by_close(tmp_path: Path) -> None:
    # A synthesiser that takes its time: the reading is stopped while it runs, and `close`
    # must still wait for that reading's end, or it is destroyed pending with the loop.
    slow = tmp_path / "espeak-ng"
    slow.write_text("#!/bin/sh\nexec sleep 5\n")
    slow.chmod(0o755)
    player = SpeechPlayer(_Speaker(), program=str(slow))
    assert player.say("Trykk for å starte", "nb")
    await asyncio.sleep(0.2)  # the synthesiser has started
    reading = next(t for t in asyncio.all_tasks() if t.get_name() == "speech")
    player.stop()
    assert not player.busy and not reading.done()
    await player.close()
    assert reading.done()
    assert not any(t.get_name() == "speech" for t in asyncio.all_tasks())
