"""The echo canceller in a real PulseAudio daemon, with null sinks as the room."""

from __future__ import annotations

import subprocess
import time
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from kiosk.devices.echo import EchoCanceller, EchoMode, EchoStatus, run_pactl
from tests.support.room import RATE, Recorder, Room, Samples, play
from tests.support.room import room as room

NEAR_HZ = 440.0
NEAR_AMPLITUDE = 0.15  # about 6 dB above the echo at the microphone: a talker at arm's length
FAR_ALONE_S = 7.0  # far end alone: the canceller converges, then its ERLE is measured
DOUBLE_TALK_S = 4.0
MIN_ERLE_DB = 20.0
MAX_NEAR_CHANGE_DB = 6.0


def far_end_speech(tmp_path: Path, seconds: float) -> Samples:
    """espeak-ng speech at 48 kHz, loud, with the near end's band notched out so that the
    near-end talker can be measured alone in the canceller's output."""
    wav = tmp_path / "far.wav"
    text = (
        "Good morning. I am the doctor at the hospital. How have you been feeling since "
        "last week? Please hold your identity card up to the camera so that I can see it. "
        "Thank you, that looks fine. Now tell me about the pain in your knee."
    )
    subprocess.run(["espeak-ng", "-s", "160", "-w", str(wav), text], check=True, timeout=30)
    with wave.open(str(wav)) as reader:
        rate = reader.getframerate()
        voice = np.frombuffer(reader.readframes(reader.getnframes()), np.int16)
    t = np.arange(int(len(voice) * RATE / rate)) / RATE
    resampled = np.interp(t, np.arange(len(voice)) / rate, voice.astype(np.float64))
    signal = np.resize(resampled, int(seconds * RATE))
    spectrum = np.fft.rfft(signal)
    freqs = np.fft.rfftfreq(len(signal), 1 / RATE)
    spectrum[(freqs > NEAR_HZ - 60) & (freqs < NEAR_HZ + 60)] = 0
    signal = np.fft.irfft(spectrum, len(signal))
    return (signal / np.max(np.abs(signal)) * 0.5 * 32767).astype(np.int16)


def near_end_tone(seconds: float) -> Samples:
    t = np.arange(int(seconds * RATE)) / RATE
    return (np.sin(2 * np.pi * NEAR_HZ * t) * NEAR_AMPLITUDE * 32767).astype(np.int16)


def level_db(samples: Samples) -> float:
    x = samples.astype(np.float64) / 32768.0
    return float(10 * np.log10(np.mean(x * x) + 1e-20))


def near_band_db(samples: Samples) -> float:
    """Power of the near-end tone's band only."""
    x = samples.astype(np.float64) / 32768.0
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / RATE)
    return float(10 * np.log10(np.sum(spectrum[np.abs(freqs - NEAR_HZ) < 5]) + 1e-20))


def near_onset(recorded: Samples) -> int | None:
    """First 100 ms block of a recording where the near-end tone is on (None: never)."""
    block = RATE // 10
    k = np.arange(block)
    probe = np.exp(-2j * np.pi * NEAR_HZ * k / RATE)
    x = recorded.astype(np.float64) / 32768.0
    for start in range(0, len(x) - block, block):
        if abs(np.dot(x[start : start + block], probe)) / block > NEAR_AMPLITUDE / 8:
            return start
    return None


@dataclass(frozen=True)
class EchoFigures:
    erle_db: float  # echo removed while the far end talks alone
    near_change_db: float  # near-end level after cancellation minus before, in double talk

    @property
    def passes(self) -> bool:
        return self.erle_db >= MIN_ERLE_DB and abs(self.near_change_db) <= MAX_NEAR_CHANGE_DB


def measure(raw: Samples, processed: Samples) -> EchoFigures:
    onset = near_onset(raw)
    assert onset is not None, "expected the near-end tone in the raw microphone, found none"
    # The two recorders connect one after the other, and the canceller's source delivers its
    # first samples late on a loaded machine: each recording is cut at its own onset of the
    # near-end tone, not at the same index. An output without the tone is cut at the raw one.
    found = near_onset(processed)
    out_onset = onset if found is None else found

    def alone(at: int) -> slice:
        return slice(at - 3 * RATE, at - RATE // 2)

    def both(at: int) -> slice:
        return slice(at + RATE // 2, at + int((DOUBLE_TALK_S - 0.5) * RATE))

    return EchoFigures(
        erle_db=level_db(raw[alone(onset)]) - level_db(processed[alone(out_onset)]),
        near_change_db=near_band_db(processed[both(out_onset)]) - near_band_db(raw[both(onset)]),
    )


def wait_recording(*recorders: Recorder) -> None:
    deadline = time.monotonic() + 5
    while any(len(r.samples()) == 0 for r in recorders):
        if time.monotonic() > deadline:
            raise AssertionError("expected the recorders to deliver within 5 s")
        time.sleep(0.02)


def test_canceller_removes_far_end_echo_and_keeps_the_near_end(room: Room, tmp_path: Path) -> None:
    canceller = EchoCanceller(
        room.speaker, room.raw_microphone, make_default=False, pactl=run_pactl(room.pulse.server)
    )
    status = canceller.start()
    assert status == EchoStatus(EchoMode.ACTIVE, sink="kiosk_aec_sink", source="kiosk_aec_source")
    far = far_end_speech(tmp_path, FAR_ALONE_S + DOUBLE_TALK_S + 1.0)
    raw_rec = Recorder(room.pulse, room.raw_microphone)
    out_rec = Recorder(room.pulse, status.source)
    try:
        wait_recording(raw_rec, out_rec)
        far_player = play(room.pulse, status.sink, far)
        time.sleep(FAR_ALONE_S)
        near_player = play(room.pulse, room.microphone, near_end_tone(DOUBLE_TALK_S))
        near_player.wait(timeout=DOUBLE_TALK_S + 5)
        far_player.wait(timeout=10)
    finally:
        raw, out = raw_rec.stop(), out_rec.stop()
        canceller.stop()

    figures = measure(raw, out)
    assert figures.erle_db >= MIN_ERLE_DB, figures
    assert abs(figures.near_change_db) <= MAX_NEAR_CHANGE_DB, figures
    # The same yardstick fails a canceller that outputs silence (no near end left) and one
    # that passes the microphone through (no echo removed).
    silent = measure(raw, np.zeros_like(raw))
    assert silent.erle_db >= MIN_ERLE_DB and silent.near_change_db < -MAX_NEAR_CHANGE_DB
    assert not silent.passes
    passthrough = measure(raw, raw)
    assert passthrough.erle_db < 1.0 and not passthrough.passes
    # The canceller's output recorded from a second later is measured the same.
    late = measure(raw, out[RATE:])
    assert late.erle_db == pytest.approx(figures.erle_db, abs=1.0), (late, figures)

    assert canceller.history == [EchoMode.STOPPED, EchoMode.ACTIVE, EchoMode.STOPPED]
    assert "module-echo-cancel" not in room.pulse.pactl("list", "short", "modules")


def test_defaults_follow_the_canceller_and_a_stale_one_is_replaced(room: Room) -> None:
    pulse = room.pulse
    before = (pulse.pactl("get-default-sink").strip(), pulse.pactl("get-default-source").strip())
    first = EchoCanceller(room.speaker, room.raw_microphone, pactl=run_pactl(pulse.server))
    assert first.start().active
    assert pulse.pactl("get-default-sink").strip() == "kiosk_aec_sink"
    assert pulse.pactl("get-default-source").strip() == "kiosk_aec_source"
    first.stop()
    after = (pulse.pactl("get-default-sink").strip(), pulse.pactl("get-default-source").strip())
    assert after == before

    crashed = EchoCanceller(room.speaker, room.raw_microphone, pactl=run_pactl(pulse.server))
    assert crashed.start().active
    # A new run finds the old canceller still loaded (as after a crash) and takes its place.
    canceller = EchoCanceller(room.speaker, room.raw_microphone, pactl=run_pactl(pulse.server))
    assert canceller.start().active
    modules = pulse.pactl("list", "short", "modules")
    assert modules.count("module-echo-cancel") == 1
    assert pulse.pactl("get-default-sink").strip() == "kiosk_aec_sink"
    canceller.stop()
    # The defaults before the crash are unknown; the server picks its own, not ours.
    assert pulse.pactl("get-default-sink").strip() != "kiosk_aec_sink"
    assert pulse.pactl("get-default-source").strip() != "kiosk_aec_source"
    assert "module-echo-cancel" not in pulse.pactl("list", "short", "modules")


def test_missing_canceller_is_reported_with_the_reason(
    room: Room, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pactl = run_pactl(room.pulse.server)
    no_device = EchoCanceller("no_such_sink", room.raw_microphone, pactl=pactl)
    status = no_device.start()
    assert status.missing and "'no_such_sink'" in status.reason
    assert no_device.history == [EchoMode.STOPPED, EchoMode.MISSING]

    # The module itself refuses (here: a canceller method this build does not have).
    refused = EchoCanceller(
        room.speaker, room.raw_microphone, aec_method="no-such-method", pactl=pactl
    ).start()
    assert refused.missing and "module-echo-cancel could not be loaded" in refused.reason

    # Our sink name is taken by another device: PulseAudio would rename ours silently.
    room.load("module-null-sink", "sink_name=kiosk_aec_sink")
    taken = EchoCanceller(room.speaker, room.raw_microphone, pactl=pactl).start()
    assert taken.missing and "'kiosk_aec_sink', another device has it" in taken.reason

    dead = EchoCanceller(pactl=run_pactl(f"unix:{tmp_path}/no-server")).start()
    assert dead.missing and "expected a sound server" in dead.reason

    monkeypatch.setenv("PATH", str(tmp_path))
    no_tool = EchoCanceller(pactl=run_pactl(room.pulse.server)).start()
    assert no_tool.missing and "pactl not found" in no_tool.reason


def test_bypass_loads_nothing_and_misses_nothing() -> None:
    calls: list[list[str]] = []

    def pactl(args: Sequence[str]) -> tuple[int, str, str]:
        calls.append(list(args))
        return 0, "", ""

    canceller = EchoCanceller(bypass=True, pactl=pactl)
    status = canceller.start()
    canceller.stop()
    assert status == EchoStatus(EchoMode.BYPASSED)
    assert not status.missing and not status.active
    assert calls == []
    assert canceller.history == [EchoMode.STOPPED, EchoMode.BYPASSED, EchoMode.STOPPED]
