"""Echo cancellation in the sound server: PulseAudio's (or PipeWire's) `module-echo-cancel`.

aiortc has no echo canceller, and a kiosk's loudspeaker sits a forearm from its microphone, so
without one the clinician hears themselves. The canceller is a virtual sink/source pair in the
sound server: whatever plays into its sink goes on to the real speaker and is subtracted from
what the real microphone hears, which comes out of its source. It is set up before the audio
streams open and made the default sink and source, so PortAudio's default devices are the
cancelled ones.

When it cannot be had (no sound server, no pactl, module missing, master device absent) the
kiosk still works, uncancelled, and says so through `EchoStatus.missing`. Speakerphones with
their own canceller are configured as `bypass`: then nothing is loaded and nothing is missing.
"""

from __future__ import annotations

import enum
import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

SINK_NAME = "kiosk_aec_sink"
SOURCE_NAME = "kiosk_aec_source"

# Runs pactl with these arguments; returns (exit code, stdout, stderr).
Pactl = Callable[[Sequence[str]], tuple[int, str, str]]


class EchoMode(enum.Enum):
    STOPPED = "stopped"
    ACTIVE = "active"  # the canceller sits between speaker and microphone
    BYPASSED = "bypassed"  # configured off: the speakerphone cancels its own echo
    MISSING = "missing"  # wanted but unavailable: audio runs uncancelled


@dataclass(frozen=True)
class EchoOptions:
    """The webrtc canceller's processing switches (PulseAudio's `aec_args`)."""

    noise_suppression: bool = True
    gain_control: bool = True
    high_pass_filter: bool = True

    def aec_args(self) -> str:
        flags = {
            "noise_suppression": self.noise_suppression,
            # Analog gain control would move the hardware microphone volume: leave that alone.
            "analog_gain_control": False,
            "digital_gain_control": self.gain_control,
            "high_pass_filter": self.high_pass_filter,
        }
        return " ".join(f"{name}={int(on)}" for name, on in flags.items())


@dataclass(frozen=True)
class EchoStatus:
    mode: EchoMode
    reason: str = ""  # why it is MISSING, for the maintenance screen and logs
    sink: str = ""  # where call audio should be played ("" = the server's default)
    source: str = ""  # where the microphone should be read ("" = the server's default)

    @property
    def missing(self) -> bool:
        return self.mode is EchoMode.MISSING

    @property
    def active(self) -> bool:
        return self.mode is EchoMode.ACTIVE


def run_pactl(server: str | None = None, timeout_s: float = 5.0) -> Pactl:
    """A pactl runner, against `server` (a PULSE_SERVER value) or the usual one."""

    def run(args: Sequence[str]) -> tuple[int, str, str]:
        env = dict(os.environ)
        if server is not None:
            env["PULSE_SERVER"] = server
        try:
            done = subprocess.run(
                ["pactl", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except FileNotFoundError:
            return 127, "", "pactl not found (Debian package pulseaudio-utils)"
        except subprocess.TimeoutExpired:
            return 124, "", f"pactl {args[0] if args else ''} took longer than {timeout_s} s"
        return done.returncode, done.stdout, done.stderr.strip()

    return run


class EchoCanceller:
    """Loads, reports and unloads one echo canceller. Not thread-safe; call from one place."""

    def __init__(
        self,
        speaker_sink: str = "",
        microphone_source: str = "",
        *,
        bypass: bool = False,
        options: EchoOptions = EchoOptions(),
        aec_method: str = "webrtc",
        sink_name: str = SINK_NAME,
        source_name: str = SOURCE_NAME,
        make_default: bool = True,
        pactl: Pactl | None = None,
    ) -> None:
        self.speaker_sink = speaker_sink
        self.microphone_source = microphone_source
        self.bypass = bypass
        self.options = options
        self.aec_method = aec_method
        self.sink_name = sink_name
        self.source_name = source_name
        self.make_default = make_default
        self._pactl = pactl or run_pactl()
        self._module: str | None = None
        self._previous_defaults: tuple[str, str] | None = None
        self.status = EchoStatus(EchoMode.STOPPED)
        self.history: list[EchoMode] = [EchoMode.STOPPED]

    def start(self) -> EchoStatus:
        """Set the canceller up (or record why not); safe to call again after `stop`."""
        if self._module is not None:
            return self.status
        if self.bypass:
            return self._set(EchoStatus(EchoMode.BYPASSED))
        code, _, err = self._pactl(["info"])
        if code != 0:
            return self._missing(f"expected a sound server to answer pactl info: {err or code}")
        # Taken before a stale canceller goes: its names are no defaults to restore.
        previous = (self._default("sink"), self._default("source"))
        if self.sink_name in previous or self.source_name in previous:
            previous = ("", "")
        self._unload_stale()
        sink = self.speaker_sink or self._default("sink")
        source = self.microphone_source or self._default("source")
        if not sink or not source:
            return self._missing(
                f"expected a speaker sink and a microphone source, got {sink!r} and {source!r}"
            )
        sinks, sources = self._names("sinks"), self._names("sources")
        for kind, name, present in (("sink", sink, sinks), ("source", source, sources)):
            if name not in present:
                return self._missing(f"expected the {kind} {name!r}, the server has none")
        # PulseAudio would rename ours silently (name.2) and we would open the other device.
        for kind, name, present in (
            ("sink", self.sink_name, sinks),
            ("source", self.source_name, sources),
        ):
            if name in present:
                return self._missing(f"expected no {kind} named {name!r}, another device has it")
        code, out, err = self._pactl(
            [
                "load-module",
                "module-echo-cancel",
                f"aec_method={self.aec_method}",
                f'aec_args="{self.options.aec_args()}"',
                f"sink_master={sink}",
                f"source_master={source}",
                f"sink_name={self.sink_name}",
                f"source_name={self.source_name}",
                "use_master_format=1",
            ]
        )
        if code != 0:
            return self._missing(f"module-echo-cancel could not be loaded: {err or code}")
        self._module = out.strip()
        if self.make_default:
            self._previous_defaults = previous
            self._pactl(["set-default-sink", self.sink_name])
            self._pactl(["set-default-source", self.source_name])
        return self._set(EchoStatus(EchoMode.ACTIVE, sink=self.sink_name, source=self.source_name))

    def stop(self) -> None:
        module, self._module = self._module, None
        if module is not None:
            code, _, err = self._pactl(["unload-module", module])
            if code != 0:
                log.warning("unloading the echo canceller failed: %s", err)
        previous, self._previous_defaults = self._previous_defaults, None
        if previous is not None:
            sink, source = previous
            if sink:
                self._pactl(["set-default-sink", sink])
            if source:
                self._pactl(["set-default-source", source])
        self._set(EchoStatus(EchoMode.STOPPED))

    # -- pactl queries -----------------------------------------------------------------------

    def _default(self, kind: str) -> str:
        code, out, _ = self._pactl([f"get-default-{kind}"])
        return out.strip() if code == 0 else ""

    def _names(self, kind: str) -> set[str]:
        code, out, _ = self._pactl(["list", "short", kind])
        if code != 0:
            return set()
        return {line.split("\t")[1] for line in out.splitlines() if line.count("\t") >= 1}

    def _unload_stale(self) -> None:
        """A canceller left behind by a crashed run would make our names taken."""
        code, out, _ = self._pactl(["list", "short", "modules"])
        if code != 0:
            return
        for line in out.splitlines():
            parts = line.split("\t")
            ours = f"sink_name={self.sink_name}"
            if len(parts) >= 3 and parts[1] == "module-echo-cancel" and ours in parts[2]:
                log.info("unloading an echo canceller left from an earlier run")
                self._pactl(["unload-module", parts[0]])

    def _missing(self, reason: str) -> EchoStatus:
        log.warning("echo cancellation unavailable: %s", reason)
        return self._set(EchoStatus(EchoMode.MISSING, reason=reason))

    def _set(self, status: EchoStatus) -> EchoStatus:
        self.status = status
        if self.history[-1] is not status.mode:
            self.history.append(status.mode)
            log.info("echo cancellation %s", status.mode.value)
        return status


__all__ = [
    "EchoCanceller",
    "EchoMode",
    "EchoOptions",
    "EchoStatus",
    "Pactl",
    "run_pactl",
]
