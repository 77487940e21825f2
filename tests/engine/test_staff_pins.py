"""Wrong staff PINs and the lockout outlive a restart of the kiosk: they are kept in the
service's runtime directory (never persistent storage)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.base.clock import ManualClock
from kiosk.base.pins import ATTEMPTS_FILE, hash_pin
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from kiosk.session.state import Phase, StaffRole
from tests.support.pulse import PulseServer

CONFIG = KioskConfig(camera="synthetic", nurse_pin_hash=hash_pin("135792", n=2**10))


async def _wrong_pin(engine: Engine, clock: ManualClock) -> None:
    failures = engine.state.pin_failures
    await clock.advance(max(0.0, engine.state.pin_locked_until - clock.now()) + 0.01)
    engine.send(ev.StaffGesture(StaffRole.NURSE))
    await engine.wait_for(lambda s: s.phase is Phase.STAFF_PIN, 10)
    for digit in "999999":
        engine.send(ev.Digit(digit))
    engine.send(ev.SubmitPin())
    await engine.wait_for(lambda s: s.pin_failures == failures + 1, 10)


async def test_a_restart_gives_no_fresh_guesses(
    pulse_server: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))
    clock = ManualClock()
    async with running_engine(CONFIG, clock=clock) as engine:
        for _ in range(5):
            await _wrong_pin(engine, clock)
        assert engine.state.pin_failures == 5
        assert engine.pin_failures_total == 5
        locked_for = engine.state.pin_locked_until - clock.now()
        assert locked_for > 250
    assert (tmp_path / ATTEMPTS_FILE).exists()
    # A new process: its clock starts anew, the lockout does not.
    clock = ManualClock()
    async with running_engine(CONFIG, clock=clock) as engine:
        assert engine.state.pin_failures == 5
        assert engine.state.pin_locked_until - clock.now() > 250
        engine.send(ev.StaffGesture(StaffRole.NURSE))
        await engine.wait_for(lambda s: s.phase is Phase.STAFF_PIN, 10)
        for digit in "135792":
            engine.send(ev.Digit(digit))
        engine.send(ev.SubmitPin())
        await engine.wait_for(lambda s: s.notice == "pin.locked", 10)
        assert engine.state.phase is Phase.STAFF_PIN


async def test_a_damaged_attempts_file_locks_rather_than_resets(
    pulse_server: PulseServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))
    (tmp_path / ATTEMPTS_FILE).write_text("{broken")
    clock = ManualClock()
    async with running_engine(CONFIG, clock=clock) as engine:
        assert engine.state.pin_locked_until - clock.now() == engine.state.timing.pin_lockout_s
