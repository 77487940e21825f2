"""A room made of PulseAudio null sinks, for echo tests.

`room_spk` is the loudspeaker; `room_mic` is the air at the microphone, and its monitor is the
raw microphone signal. A `module-loopback` from `room_spk.monitor` into `room_mic`, turned down
by `echo_db`, is the acoustic path from speaker to microphone. Near-end speech is played
straight into `room_mic`. The room lives in its own private PulseAudio daemon (from
`start_pulse`), so loading a canceller into it touches no other test's devices.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pytest

from tests.support.pulse import PulseServer, start_pulse

RATE = 48_000
ROOM_SPEAKER = "room_spk"
ROOM_MIC = "room_mic"

Samples = npt.NDArray[np.int16]


class Recorder:
    """parec from one source into memory (never to disk), from `start` until `stop`."""

    def __init__(self, pulse: PulseServer, source: str) -> None:
        self._process = subprocess.Popen(
            [
                "parec",
                "--raw",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=20",
                f"--device={source}",
            ],
            env=_env(pulse),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self._chunks: list[bytes] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        while chunk := self._process.stdout.read1(4096):
            self._chunks.append(chunk)

    def samples(self) -> Samples:
        data = b"".join(self._chunks)
        return np.frombuffer(data[: len(data) // 2 * 2], dtype=np.int16)

    def stop(self) -> Samples:
        self._process.terminate()
        self._process.wait(timeout=5)
        self._thread.join(timeout=5)
        return self.samples()


def play(pulse: PulseServer, sink: str, samples: Samples) -> subprocess.Popen[bytes]:
    """Play 48 kHz mono int16 samples into `sink` in real time; returns the running pacat."""
    process = subprocess.Popen(
        [
            "pacat",
            "--playback",
            "--raw",
            "--format=s16le",
            f"--rate={RATE}",
            "--channels=1",
            "--latency-msec=20",
            f"--device={sink}",
        ],
        env=_env(pulse),
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    stdin = process.stdin

    def feed() -> None:
        try:
            stdin.write(samples.astype("<i2").tobytes())
            stdin.close()
        except (BrokenPipeError, ValueError):
            pass

    threading.Thread(target=feed, daemon=True).start()
    return process


def _env(pulse: PulseServer) -> dict[str, str]:
    import os

    return {**os.environ, "PULSE_SERVER": pulse.server}


@dataclass
class Room:
    pulse: PulseServer
    echo_db: float
    speaker: str = ROOM_SPEAKER
    microphone: str = ROOM_MIC
    modules: list[str] = field(default_factory=list)

    @property
    def raw_microphone(self) -> str:
        return f"{self.microphone}.monitor"

    def load(self, name: str, *args: str) -> str:
        module = self.pulse.pactl("load-module", name, *args).strip()
        self.modules.append(module)
        return module


def build_room(pulse: PulseServer, echo_db: float = -12.0) -> Room:
    """Add the room's sinks and its echo path to a running daemon."""
    room = Room(pulse, echo_db)
    for sink in (room.speaker, room.microphone):
        room.load("module-null-sink", f"sink_name={sink}", f"rate={RATE}", "channels=1")
        # Keeps the null sink rendering in real time (see tests/support/pulse.py).
        room.load(
            "module-loopback",
            "source=kiosk_silence",
            f"sink={sink}",
            "latency_msec=10",
            "source_dont_move=true",
            "sink_dont_move=true",
        )
    echo = room.load(
        "module-loopback",
        f"source={room.speaker}.monitor",
        f"sink={room.microphone}",
        "latency_msec=20",
        "source_dont_move=true",
        "sink_dont_move=true",
    )
    for line in pulse.pactl("list", "short", "sink-inputs").splitlines():
        index, owner = line.split("\t")[:2]
        if owner == echo:
            pulse.pactl("set-sink-input-volume", index, f"{echo_db}dB")
    return room


@pytest.fixture
def room() -> Iterator[Room]:
    """A private daemon with the room in it, stopped after the test."""
    pulse = start_pulse()
    try:
        yield build_room(pulse)
    finally:
        pulse.stop()
