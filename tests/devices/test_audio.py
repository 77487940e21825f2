"""AudioIO against real PortAudio on a private PulseAudio daemon with null sinks."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pytest

from kiosk.devices.audio import BLOCK, SAMPLE_RATE, AudioIO, StreamState
from tests.support.pulse import PulseServer, _reinit_portaudio, start_pulse


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def tone(freq: float, seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (np.sin(2 * np.pi * freq * t) * amplitude * 32767).astype(np.int16)


def record(audio: AudioIO, seconds: float) -> np.ndarray:
    """Drain the microphone for `seconds`, keeping only what it captured."""
    chunks = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        chunks.append(audio.mic_buffer.read(SAMPLE_RATE))
        time.sleep(0.05)
    return np.concatenate(chunks)


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float32) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean((samples.astype(np.float32) / 32768) ** 2)))


def play_and_record(
    audio: AudioIO, samples: np.ndarray, levels: list[float] | None = None
) -> np.ndarray:
    """Feed the speaker at real pace (its buffer holds only half a second)."""
    captured = []
    for start in range(0, len(samples), BLOCK * 5):
        audio.play(samples[start : start + BLOCK * 5])
        time.sleep(BLOCK * 5 / SAMPLE_RATE)
        captured.append(audio.mic_buffer.read(SAMPLE_RATE))
        if levels is not None:
            levels.append(audio.level.rms_dbfs)
    captured.append(record(audio, 0.3))
    return np.concatenate(captured)


def test_tone_through_the_speaker_comes_back_from_the_monitor(pulse_server: PulseServer) -> None:
    audio = AudioIO("pulse", "pulse", volume=0.5)
    audio.start()
    try:
        assert not audio.microphone_missing and not audio.speaker_missing
        record(audio, 0.2)  # drop the start-up silence
        levels: list[float] = [audio.level.rms_dbfs]
        captured = play_and_record(audio, tone(1000, 1.0, 0.8), levels)
        audio.muted = True
        time.sleep(0.2)
        audio.mic_buffer.clear()
        audio.play(tone(1000, 0.4, 0.8))
        muted = record(audio, 0.3)
    finally:
        audio.stop()

    loud = captured[np.abs(captured) > 500]
    assert len(loud) > SAMPLE_RATE // 2, "less than half the tone came back"
    start = int(np.argmax(np.abs(captured) > 500))
    body = captured[start + 4800 : start + 4800 + 24000]
    assert dominant_hz(body) == pytest.approx(1000, abs=10)
    # 0.8 full scale at volume 0.5 -> sine of amplitude 0.4 -> RMS 0.283
    assert rms(body) == pytest.approx(0.4 / np.sqrt(2), rel=0.1)
    # The meter follows the tone: silence before, about -11 dBFS (0.283 RMS) while it plays.
    assert levels[0] < -60
    assert max(levels) == pytest.approx(-10.97, abs=1.5)
    # Mute silences what the call would send, not the meter.
    assert len(muted) > 0 and np.all(muted == 0)
    assert audio.microphone_history == [
        StreamState.STOPPED,
        StreamState.RUNNING,
        StreamState.STOPPED,
    ]


def test_missing_devices_fall_back_to_silence(pulse_server: PulseServer) -> None:
    audio = AudioIO("No Such Microphone", "No Such Speaker", first_retry_s=10)
    audio.start()
    try:
        assert audio.microphone_missing and audio.speaker_missing
        audio.play(tone(440, 0.1, 0.5))  # discarded
        assert audio.speaker_buffer.available == 0
        silence = audio.read_mic(BLOCK)
    finally:
        audio.stop()
    assert silence.shape == (BLOCK,) and silence.dtype == np.int16 and not silence.any()
    assert audio.microphone_history == [
        StreamState.STOPPED,
        StreamState.MISSING,
        StreamState.STOPPED,
    ]


def test_volume_is_clamped() -> None:
    audio = AudioIO(volume=7)
    assert audio.volume == 2.0
    audio.volume = -1
    assert audio.volume == 0.0


def test_sound_server_restart_is_survived(pulse_server: PulseServer) -> None:
    """The sound server vanishes mid-call and a new one appears: the streams come back."""
    first = start_pulse()
    os.environ["PULSE_SERVER"] = first.server
    _reinit_portaudio()
    second: PulseServer | None = None
    audio = AudioIO("pulse", "pulse", stall_s=0.5, first_retry_s=0.1, max_retry_s=0.4)
    try:
        audio.start()
        wait_for(lambda: audio.level.rms_dbfs > -101 and audio.mic_buffer.available > 0)
        first.stop()
        wait_for(lambda: audio.microphone_state is StreamState.LOST)
        second = start_pulse()
        os.environ["PULSE_SERVER"] = second.server
        wait_for(lambda: not audio.microphone_missing and not audio.speaker_missing, 10)
        audio.mic_buffer.clear()
        captured = play_and_record(audio, tone(1000, 0.5, 0.8))
        assert dominant_hz(captured) == pytest.approx(1000, abs=10)
        assert audio.microphone_history == [
            StreamState.STOPPED,
            StreamState.RUNNING,
            StreamState.LOST,
            StreamState.RUNNING,
        ]
        assert audio.speaker_history[:2] == [StreamState.STOPPED, StreamState.RUNNING]
        assert audio.speaker_history[-1] is StreamState.RUNNING
    finally:
        audio.stop()
        os.environ["PULSE_SERVER"] = pulse_server.server
        _reinit_portaudio()
        first.stop()
        if second is not None:
            second.stop()


def test_without_sound_devices_portaudio_is_not_made_to_list_them_at_every_retry(
    pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each fresh listing leaves ALSA configuration behind in memory for good; with nothing
    plugged in or started since, a listing would find what the last one found."""
    import sounddevice as sd

    relisted: list[float] = []
    terminate = sd._terminate

    def counted() -> None:
        relisted.append(time.monotonic())
        terminate()

    monkeypatch.setenv("PULSE_SERVER", "unix:/nonexistent/kiosk-test/native")
    _reinit_portaudio()
    monkeypatch.setattr(sd, "_terminate", counted)
    audio = AudioIO(first_retry_s=0.02, max_retry_s=0.05)
    try:
        audio.start()
        time.sleep(1.0)  # some thirty retries of each stream
        assert audio.microphone_missing and audio.speaker_missing
    finally:
        audio.stop()
        monkeypatch.setattr(sd, "_terminate", terminate)
        monkeypatch.setenv("PULSE_SERVER", pulse_server.server)
        _reinit_portaudio()
    assert len(relisted) <= 1


def test_a_sound_server_that_starts_later_is_found() -> None:
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = "unix:/nonexistent/kiosk-test/native"
    _reinit_portaudio()
    late: PulseServer | None = None
    audio = AudioIO("pulse", "pulse", first_retry_s=0.05, max_retry_s=0.2)
    try:
        audio.start()
        assert audio.microphone_missing and audio.speaker_missing
        late = start_pulse()
        os.environ["PULSE_SERVER"] = late.server
        wait_for(lambda: not audio.microphone_missing and not audio.speaker_missing, 10)
        assert audio.microphone_history == [
            StreamState.STOPPED,
            StreamState.MISSING,
            StreamState.RUNNING,
        ]
    finally:
        audio.stop()
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        _reinit_portaudio()
        if late is not None:
            late.stop()
