"""Closing a sound stream never holds up the caller: PortAudio's ALSA layer over PulseAudio
can block for ever in abort after underruns, and no real sound system here hangs on demand,
so these streams stand in for PortAudio's at the point the kiosk calls it."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import sounddevice as sd

from kiosk.devices.audio import AudioIO, close_stream


class Stream:
    def __init__(self, stuck: bool = False, fails: bool = False) -> None:
        self.calls: list[str] = []
        self.release = threading.Event()
        self._stuck = stuck
        self._fails = fails

    def abort(self) -> None:
        self.calls.append("abort")
        if self._stuck:
            self.release.wait()
        if self._fails:
            raise sd.PortAudioError("Unanticipated host error")

    def close(self) -> None:
        self.calls.append("close")


def test_a_stream_is_aborted_then_closed() -> None:
    stream = Stream()
    assert close_stream(stream, "output") is None
    assert stream.calls == ["abort", "close"]


def test_a_failing_close_is_logged_and_counts_as_closed(caplog: pytest.LogCaptureFixture) -> None:
    stream = Stream(fails=True)
    with caplog.at_level(logging.WARNING):
        assert close_stream(stream, "input") is None
    assert stream.calls == ["abort"]
    assert "closing the input stream failed" in caplog.text


def test_a_stuck_stream_is_left_behind_after_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    stream = Stream(stuck=True)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        closer = close_stream(stream, "output", limit_s=0.2)
    assert closer is not None and closer.is_alive()
    assert 0.2 <= time.monotonic() - started < 1.0
    assert "the output stream did not close within" in caplog.text
    stream.release.set()  # the sound system comes back: the closing thread finishes
    closer.join(2)
    assert stream.calls == ["abort", "close"]


def test_stopping_the_devices_is_not_held_up_by_a_stuck_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(close_stream, "__defaults__", (0.2,))
    audio = AudioIO()
    stuck, fine = Stream(stuck=True), Stream()
    audio._spk.stream = stuck  # as `_open` leaves a running stream
    audio._mic.stream = fine
    started = time.monotonic()
    audio.stop()
    assert time.monotonic() - started < 1.0
    assert audio.streams_left_open == 1
    assert fine.calls == ["abort", "close"] and stuck.calls == ["abort"]
    stuck.release.set()
