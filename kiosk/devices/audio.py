"""The audio devices: one microphone stream and one speaker stream over PortAudio.

Format everywhere: 48 kHz, mono, int16 (what aiortc's Opus path carries), in 20 ms blocks.
The microphone fills a bounded ring buffer and a level meter; the speaker plays from another,
with a third for the kiosk's own spoken guidance mixed over it (the conference may play
sound at the same time).
Without a device the microphone is silent and the speaker discards, with flags saying so. A
stream that stops calling back (device gone, sound server gone) is closed and reopened with
backoff.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sounddevice as sd

from kiosk.devices.ringbuffer import Level, RingBuffer, Samples, measure

log = logging.getLogger(__name__)

SAMPLE_RATE = 48_000
BLOCK = 960  # 20 ms
MAX_VOLUME = 2.0


class StreamState(enum.Enum):
    STOPPED = "stopped"
    RUNNING = "running"
    MISSING = "missing"  # no such device: silent microphone / discarding speaker
    LOST = "lost"  # it was running and stopped answering; reopening with backoff


def find_device(name: str, kind: str) -> int | None:
    """PortAudio index of the device whose name contains `name` ("" = the default)."""
    key = "max_input_channels" if kind == "input" else "max_output_channels"
    try:
        devices = sd.query_devices()
        if not name:
            default = sd.default.device[0 if kind == "input" else 1]
            if default is None or default < 0:
                default = sd.query_devices(kind=kind)["index"]
            return int(default) if devices[default][key] > 0 else None
    except (sd.PortAudioError, ValueError, IndexError):
        return None
    for device in devices:
        if name.lower() in device["name"].lower() and device[key] > 0:
            return int(device["index"])
    return None


class _Direction:
    """One stream, its state history and its reopen schedule."""

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        self.stream: sd.InputStream | sd.OutputStream | None = None
        self.state = StreamState.STOPPED
        self.history: list[StreamState] = [StreamState.STOPPED]
        self.beat = 0.0
        self.backoff = 0.0
        self.retry_at = 0.0

    def set(self, state: StreamState) -> bool:
        if state == self.state:
            return False
        self.state = state
        self.history.append(state)
        log.info("%s %s: %s", self.kind, self.name or "default", state.value)
        return True


class AudioIO:
    def __init__(
        self,
        microphone: str = "",
        speaker: str = "",
        *,
        volume: float = 1.0,
        buffer_s: float = 0.5,
        stall_s: float = 1.0,
        first_retry_s: float = 0.25,
        max_retry_s: float = 5.0,
        latency_s: float = 0.06,
    ) -> None:
        capacity = int(SAMPLE_RATE * buffer_s)
        self.mic_buffer = RingBuffer(capacity)
        self.speaker_buffer = RingBuffer(capacity)
        self.voice_buffer = RingBuffer(capacity)
        self._mic = _Direction("input", microphone)
        self._spk = _Direction("output", speaker)
        self._volume = 1.0
        self.volume = volume
        self.muted = False
        self._level = Level()
        self._stall_s = stall_s
        self._first_retry_s = first_retry_s
        self._max_retry_s = max_retry_s
        # PortAudio's "high" default makes a PulseAudio-backed device deliver in bursts.
        self._latency_s = latency_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._listeners: list[Callable[[], None]] = []

    # -- what others read and set ------------------------------------------------------------

    @property
    def microphone_missing(self) -> bool:
        return self._mic.state is not StreamState.RUNNING

    @property
    def speaker_missing(self) -> bool:
        return self._spk.state is not StreamState.RUNNING

    @property
    def microphone_state(self) -> StreamState:
        return self._mic.state

    @property
    def microphone_history(self) -> list[StreamState]:
        with self._lock:
            return list(self._mic.history)

    @property
    def speaker_history(self) -> list[StreamState]:
        with self._lock:
            return list(self._spk.history)

    @property
    def level(self) -> Level:
        """Level of the newest microphone block, before mute (the check shows the mic works)."""
        return self._level

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        self._volume = min(MAX_VOLUME, max(0.0, value))

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (from the supervisor thread) when a stream changes state."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def read_mic(self, count: int = BLOCK) -> Samples:
        """Exactly `count` microphone samples, silence where there are none."""
        return self.mic_buffer.read_exact(count)

    def play(self, samples: Samples) -> None:
        """Queue samples for the speaker; dropped when there is no speaker."""
        if self._spk.state is StreamState.RUNNING:
            self.speaker_buffer.write(samples)

    def queued_s(self) -> float:
        """The far end's sound waiting for the speaker, in seconds."""
        return self.speaker_buffer.available / SAMPLE_RATE

    def say(self, samples: Samples) -> None:
        """Queue spoken guidance, mixed over whatever else the speaker plays."""
        if self._spk.state is StreamState.RUNNING:
            self.voice_buffer.write(samples)

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._supervisor is not None:
            return
        self._stop.clear()
        with self._lock:
            self._open(self._mic)
            self._open(self._spk)
        self._notify()
        self._supervisor = threading.Thread(target=self._supervise, name="audio", daemon=True)
        self._supervisor.start()

    def stop(self) -> None:
        thread, self._supervisor = self._supervisor, None
        if thread is not None:
            self._stop.set()
            thread.join(timeout=5)
        with self._lock:
            for direction in (self._mic, self._spk):
                self._close(direction)
                direction.set(StreamState.STOPPED)
        self.mic_buffer.clear()
        self.speaker_buffer.clear()
        self.voice_buffer.clear()
        self._level = Level()

    # -- streams -----------------------------------------------------------------------------

    def _mic_callback(self, indata: Any, frames: int, _time: Any, _status: Any) -> None:
        self._mic.beat = time.monotonic()
        block = np.asarray(indata[:, 0], dtype=np.int16)
        self._level = measure(block)
        if self.muted:
            block = np.zeros(frames, np.int16)
        self.mic_buffer.write(block)

    def _speaker_callback(self, outdata: Any, frames: int, _time: Any, _status: Any) -> None:
        self._spk.beat = time.monotonic()
        block = self.speaker_buffer.read_exact(frames)
        if self.voice_buffer.available:
            voice = self.voice_buffer.read_exact(frames)
            block = np.clip(block.astype(np.int32) + voice, -32768, 32767).astype(np.int16)
        volume = self._volume
        if volume != 1.0:
            block = np.clip(block.astype(np.float32) * volume, -32768, 32767).astype(np.int16)
        outdata[:, 0] = block

    def _open(self, direction: _Direction) -> None:
        """Open one stream (lock held). Failure leaves it MISSING or LOST, to be retried."""
        index = find_device(direction.name, direction.kind)
        # PortAudio lists devices once; a device plugged in since needs a fresh look, which
        # is only safe while no stream is open.
        if (
            index is None
            and self._mic.stream is None
            and self._spk.stream is None
            and _reinitialise_portaudio_if_changed()
        ):
            index = find_device(direction.name, direction.kind)
        failure = StreamState.LOST if direction.state is StreamState.LOST else StreamState.MISSING
        if index is None:
            self._schedule_retry(direction, failure)
            return
        stream_type = sd.InputStream if direction.kind == "input" else sd.OutputStream
        callback = self._mic_callback if direction.kind == "input" else self._speaker_callback
        try:
            stream = stream_type(
                device=index,
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=BLOCK,
                latency=self._latency_s,
                callback=callback,
            )
            direction.beat = time.monotonic()
            stream.start()
        except sd.PortAudioError as exc:
            log.warning("%s device could not be opened: %s", direction.kind, exc)
            self._schedule_retry(direction, failure)
            return
        direction.stream = stream
        direction.backoff = 0.0
        direction.set(StreamState.RUNNING)

    def _schedule_retry(self, direction: _Direction, state: StreamState) -> None:
        direction.set(state)
        direction.backoff = min(self._max_retry_s, max(self._first_retry_s, direction.backoff * 2))
        direction.retry_at = time.monotonic() + direction.backoff

    def _close(self, direction: _Direction) -> None:
        stream, direction.stream = direction.stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except sd.PortAudioError as exc:
            log.warning("closing the %s stream failed: %s", direction.kind, exc)

    def _supervise(self) -> None:
        while not self._stop.wait(0.1):
            changed = False
            now = time.monotonic()
            with self._lock:
                for direction in (self._mic, self._spk):
                    before = direction.state
                    if direction.stream is not None:
                        stalled = now - direction.beat > self._stall_s
                        if stalled or not direction.stream.active:
                            log.warning("%s stream stopped answering", direction.kind)
                            self._close(direction)
                            self._schedule_retry(direction, StreamState.LOST)
                    elif now >= direction.retry_at:
                        self._open(direction)
                    changed |= before != direction.state
            if changed:
                self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("audio state listener failed")


# What the devices were when PortAudio last listed them; None: not looked at since start.
_listed_with: tuple[object, ...] | None = None


def sound_setup() -> tuple[object, ...]:
    """What decides which devices PortAudio can list: the kernel's sound devices (a USB
    headset plugged in adds some) and the PulseAudio server the ALSA "pulse" device reaches
    (a server that starts later makes that device usable)."""
    try:
        kernel = tuple(sorted(os.listdir("/dev/snd")))
    except OSError:
        kernel = ()
    server = os.environ.get("PULSE_SERVER", "")
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if server.startswith("unix:"):
        socket: Path | None = Path(server.removeprefix("unix:"))
    else:
        socket = Path(runtime, "pulse", "native") if runtime and not server else None
    try:
        listening = socket.stat().st_ino if socket is not None else None
    except OSError:
        listening = None
    return kernel, server, listening


def _reinitialise_portaudio_if_changed() -> bool:
    """Make PortAudio list the devices again, if they can have changed since it last did.

    Each re-initialisation leaves ~14 kB of ALSA's configuration behind for good (measured
    here with mallinfo2), and a terminal without a microphone retried every few seconds:
    ~130 kB more memory with each consultation, hundreds of MB a day."""
    global _listed_with
    setup = sound_setup()
    if setup == _listed_with:
        return False
    _listed_with = setup
    try:
        sd._terminate()
        sd._initialize()
    except sd.PortAudioError as exc:
        log.warning("PortAudio could not be reinitialised: %s", exc)
    return True
