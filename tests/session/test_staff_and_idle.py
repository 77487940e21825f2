"""Nurse-assisted sessions, the maintenance screen, the PIN pad's lockout, the idle warning and
the accessibility switches: whole histories through the pure machine."""

from __future__ import annotations

import pytest

from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.machine import transition
from kiosk.session.state import Phase, SessionState, StaffRole, Timing
from tests.session.test_machine import run


def staff_pin(role: StaffRole, pin: str) -> list[ev.Event]:
    return [ev.StaffGesture(role), *(ev.Digit(d) for d in pin), ev.SubmitPin()]


def nurse_pin(pin: str = "246813") -> list[ev.Event]:
    return staff_pin(StaffRole.NURSE, pin)


def maintenance_opened() -> list[ev.Event]:
    return [*staff_pin(StaffRole.MAINTENANCE, "9"), ev.PinChecked(ok=True)]


def test_nurse_starts_a_session_for_a_patient() -> None:
    events = [
        *nurse_pin(),
        ev.PinChecked(ok=True),
        *(ev.Digit(d) for d in "123456"),
        ev.SetDisplayName("  Kari Nordmann "),
        ev.SetLanguage("nn"),
        ev.ToggleLargeText(),
        ev.ToggleLoud(),
        ev.SubmitNumber(),
        ev.Continue(),
        ev.Knocked(),
        ev.Admitted(),
    ]
    state, phases, commands = run(events)
    assert phases == ["idle", "staff_pin", "nurse", "checks", "joining", "waiting", "in_call"]
    assert (state.assisted, state.large_text, state.loud, state.language) == (
        True,
        True,
        True,
        "nn",
    )
    knock = next(c for c in commands if isinstance(c, cmd.Knock))
    assert (knock.alias, knock.display_name) == ("123456", "Kari Nordmann")
    check = next(c for c in commands if isinstance(c, cmd.CheckPin))
    assert (check.role, check.pin) == ("nurse", "246813")
    assert cmd.SetVolume(1.6) in commands  # loud: +6 dB on the 0.8 default


def test_the_pin_never_stays_in_the_state() -> None:
    state, _, _ = run(nurse_pin())
    assert state.pin_digits == "" and state.pin_checking
    assert "246813" not in repr(state)


def test_wrong_pins_slow_down_then_lock_the_pad_even_across_sessions() -> None:
    timing = Timing(pin_max_failures=3, pin_lockout_s=300.0)
    state = SessionState(timing=timing)
    history: list[tuple[str, float]] = []
    now = 0.0
    for _ in range(3):
        for event in [*nurse_pin("1111"), ev.PinChecked(ok=False)]:
            now += 10.0
            state = transition(state, event, now).state
        history.append((state.notice, state.pin_locked_until - now))
    assert history == [("pin.wrong", 1.0), ("pin.wrong", 2.0), ("pin.locked", 300.0)]
    # Abandoning the pad and coming back does not reset the lockout.
    for event in (ev.Cancel(), ev.Wiped(), *nurse_pin("246813")):
        now += 1.0
        state = transition(state, event, now).state
    assert (state.phase, state.notice, state.pin_checking) == (
        Phase.STAFF_PIN,
        "pin.locked",
        False,
    )
    # After the lockout the right PIN opens the nurse screen and clears the count.
    now = state.pin_locked_until + 1
    for event in (*(ev.Digit(d) for d in "246813"), ev.SubmitPin(), ev.PinChecked(ok=True)):
        state = transition(state, event, now).state
    assert (state.phase, state.pin_failures) == (Phase.NURSE, 0)


def test_maintenance_pin_opens_maintenance_and_runs_checks() -> None:
    events = [
        *maintenance_opened(),
        ev.RerunChecks(),
        ev.Dismiss(),
        ev.Wiped(),
    ]
    _, phases, commands = run(events)
    assert phases == ["idle", "staff_pin", "maintenance", "wiping", "idle"]
    assert [type(c) for c in commands if not isinstance(c, cmd.StartTimer)] == [
        cmd.CheckPin,
        cmd.RunChecks,
        cmd.StopChecks,
        cmd.Wipe,
    ]


def test_idle_warning_then_still_here_keeps_the_session() -> None:
    state, _, _ = run([ev.Tap(), ev.Digit("1"), ev.IdleTimeout()])
    assert state.idle_warning and state.digits == "1"
    step = transition(state, ev.StillHere(), 50.0)
    assert not step.state.idle_warning
    assert cmd.StartTimer(ev.IdleTimeout, state.timing.number_idle_s) in step.commands


def test_any_touch_answers_the_idle_warning() -> None:
    state, _, _ = run([ev.Tap(), ev.Digit("1"), ev.IdleTimeout(), ev.Digit("2")])
    assert not state.idle_warning and state.digits == "12"


def test_idle_warning_unanswered_wipes_the_abandoned_session() -> None:
    events = [
        ev.SetLanguage("en"),
        ev.Tap(),
        *(ev.Digit(d) for d in "1234"),
        ev.IdleTimeout(),
        ev.IdleFinal(),
        ev.Wiped(),
    ]
    state, phases, commands = run(events)
    assert phases == ["idle", "number", "wiping", "idle"]
    assert cmd.StartTimer(ev.IdleFinal, state.timing.idle_warning_s) in commands
    assert (state.digits, state.language, state.idle_warning) == ("", "nb", False)


def test_abandoned_checks_are_stopped_before_the_wipe() -> None:
    events = [
        ev.Tap(),
        *(ev.Digit(d) for d in "123456"),
        ev.SubmitNumber(),
        ev.IdleTimeout(),
        ev.IdleFinal(),
    ]
    _, _, commands = run(events)
    assert [type(c) for c in commands[-2:]] == [cmd.StopChecks, cmd.Wipe]


def test_a_refused_qr_code_is_said_and_cleared_by_typing() -> None:
    state, _, _ = run([ev.Tap(), ev.QrRefused("qr.host_not_allowed")])
    assert state.notice == "qr.host_not_allowed"
    assert transition(state, ev.Digit("4"), 9.0).state.notice == ""


def test_display_name_is_bounded() -> None:
    with pytest.raises(ValueError, match="got 61"):
        ev.SetDisplayName("x" * 61)


def test_a_test_call_from_maintenance_knocks_on_the_test_room() -> None:
    events = [
        *maintenance_opened(),
        ev.StartTestCall("555000"),
        ev.Knocked(),
        ev.Admitted(),
        ev.HangUp(),
    ]
    _, phases, commands = run(events)
    assert phases == ["idle", "staff_pin", "maintenance", "joining", "waiting", "in_call", "ended"]
    knock = next(c for c in commands if isinstance(c, cmd.Knock))
    assert (knock.alias, knock.display_name) == ("555000", "Test")
    with pytest.raises(ValueError, match="six digits"):
        ev.StartTestCall("12")
