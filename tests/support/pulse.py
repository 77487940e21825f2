"""A private PulseAudio daemon with null sinks, so PortAudio has real devices in tests.

Use the `pulse_server` fixture (session scope). It starts `pulseaudio` with a generated
script in a temporary runtime directory, points `PULSE_SERVER` at it and re-initialises
PortAudio so sounddevice sees the new devices. Two null sinks stand for the room:
`kiosk_speaker` (default sink; its monitor is the default source, so what is played is what
the microphone hears) and `kiosk_spare`. Works as root (no system mode, anonymous auth).

A null sink renders in two-second blocks while no client asks for low latency, which would
make every PortAudio stream stutter; a silent null source looped into each sink at 10 ms keeps
them rendering in real time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SPEAKER_SINK = "kiosk_speaker"
SPARE_SINK = "kiosk_spare"

_SCRIPT = """\
load-module module-native-protocol-unix socket={socket} auth-anonymous=1
load-module module-null-sink sink_name={speaker} rate=48000 channels=1 \
sink_properties=device.description=KioskSpeaker
load-module module-null-sink sink_name={spare} rate=48000 channels=1 \
sink_properties=device.description=KioskSpare
load-module module-null-source source_name=kiosk_silence rate=48000 channels=1
load-module module-loopback source=kiosk_silence sink={speaker} latency_msec=10 \
source_dont_move=true sink_dont_move=true
load-module module-loopback source=kiosk_silence sink={spare} latency_msec=10 \
source_dont_move=true sink_dont_move=true
set-default-sink {speaker}
set-default-source {speaker}.monitor
"""


class PulseError(RuntimeError):
    """The private PulseAudio daemon did not come up."""


@dataclass
class PulseServer:
    """A running private daemon; `server` is the value for `PULSE_SERVER`."""

    process: subprocess.Popen[bytes]
    runtime_dir: Path
    server: str
    speaker_sink: str = SPEAKER_SINK
    spare_sink: str = SPARE_SINK

    def pactl(self, *args: str) -> str:
        env = {**os.environ, "PULSE_SERVER": self.server}
        done = subprocess.run(
            ["pactl", *args], env=env, capture_output=True, text=True, timeout=10, check=False
        )
        if done.returncode != 0:
            raise PulseError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


def start_pulse(timeout_s: float = 10.0) -> PulseServer:
    """Start a private daemon and wait until it answers `pactl info`."""
    if shutil.which("pulseaudio") is None:
        raise PulseError("expected the pulseaudio binary on PATH (apt package pulseaudio)")
    runtime = Path(tempfile.mkdtemp(prefix="kiosk-pulse-"))
    socket = runtime / "native"
    script = runtime / "default.pa"
    script.write_text(_SCRIPT.format(socket=socket, speaker=SPEAKER_SINK, spare=SPARE_SINK))
    env = {
        **os.environ,
        "HOME": str(runtime),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(runtime / "config"),
        "PULSE_RUNTIME_PATH": str(runtime),
        "PULSE_STATE_PATH": str(runtime / "state"),
    }
    env.pop("PULSE_SERVER", None)
    log = (runtime / "pulse.log").open("wb")
    process = subprocess.Popen(
        [
            "pulseaudio",
            "--daemonize=no",
            "--system=false",
            "--exit-idle-time=-1",
            "--disallow-exit",
            "--use-pid-file=false",
            "--log-target=stderr",
            "-n",
            "-F",
            str(script),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    log.close()
    pulse = PulseServer(process, runtime, f"unix:{socket}")
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            text = (runtime / "pulse.log").read_text(errors="replace")[-2000:]
            pulse.stop()
            raise PulseError(f"pulseaudio exited with {process.returncode}: {text}")
        if socket.exists():
            try:
                pulse.pactl("info")
            except (PulseError, subprocess.TimeoutExpired):
                pass
            else:
                _warm_up(pulse)
                return pulse
        if time.monotonic() > deadline:
            pulse.stop()
            raise PulseError(f"pulseaudio did not answer within {timeout_s} s")
        time.sleep(0.05)


def _warm_up(pulse: PulseServer) -> None:
    """The daemon's first recording stream takes almost two seconds to deliver anything;
    pay that here once, not in the first test that records."""
    env = {**os.environ, "PULSE_SERVER": pulse.server}
    recorder = subprocess.Popen(
        ["parec", "--raw", "--latency-msec=20", f"--device={SPEAKER_SINK}.monitor"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert recorder.stdout is not None
        recorder.stdout.read(64)
    finally:
        recorder.kill()
        recorder.wait(timeout=5)


def _reinit_portaudio() -> None:
    """PortAudio lists devices once at initialisation; make it look again."""
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


@pytest.fixture(scope="session")
def pulse_server() -> Iterator[PulseServer]:
    pulse = start_pulse()
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = pulse.server
    _reinit_portaudio()
    try:
        yield pulse
    finally:
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        _reinit_portaudio()
        pulse.stop()
