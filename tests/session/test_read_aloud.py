"""Reading aloud in the pure machine: the patient's choice, what is spoken where, silence in the
call, and the configured default that every new patient starts with."""

from __future__ import annotations

import pytest

from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.machine import initial_state, transition
from kiosk.session.state import Phase, StaffRole
from tests.session.test_machine import GOOD_CHECKS, number, run

SPEECH = (cmd.Speak, cmd.StopSpeaking)


def spoken(commands: list[cmd.Command]) -> list[cmd.Command]:
    return [c for c in commands if isinstance(c, SPEECH)]


def test_read_aloud_through_a_consultation_and_silence_in_the_call() -> None:
    events: list[ev.Event] = [
        ev.ToggleReadAloud(),
        ev.ReadAloud("Video consultation. Tap to start."),
        ev.Tap(),
        ev.ReadAloud("Type the six-digit number."),
        *number(),
        ev.SetLanguage("en"),
        ev.ReadAloud("Type the six-digit number."),
        ev.SubmitNumber(),
        ev.ReadAloud("Let us check the camera and the sound."),
        ev.ChecksFinished(GOOD_CHECKS),
        ev.ReadAloud("Camera: The camera works.", queue=True),
        ev.Continue(),
        ev.Knocked(),
        ev.ReadAloud("You are knocking."),
        ev.Admitted(),
        ev.ReadAloud("anything at all"),
        ev.CallMediaStarted(),
        ev.MediaLost(),
        ev.ReadAloud("Reconnecting"),
        ev.MediaRestored(),
        ev.HangUp(),
        ev.ReadAloud("Thank you for the consultation."),
        ev.ReturnTimeout(),
        ev.Wiped(),
        ev.ReadAloud("Video consultation. Tap to start."),
    ]
    state, phases, commands = run(events)
    assert phases == [
        "idle", "number", "checks", "joining", "waiting", "in_call", "reconnecting", "in_call",
        "ended", "wiping", "idle",
    ]  # fmt: skip
    assert spoken(commands) == [
        cmd.Speak("Video consultation. Tap to start.", "nb"),
        cmd.Speak("Type the six-digit number.", "nb"),
        cmd.Speak("Type the six-digit number.", "en"),
        cmd.Speak("Let us check the camera and the sound.", "en"),
        cmd.Speak("Camera: The camera works.", "en", queue=True),
        cmd.Speak("You are knocking.", "en"),
        cmd.StopSpeaking(),  # admitted: the clinician speaks now
        cmd.Speak("Thank you for the consultation.", "en"),
        cmd.StopSpeaking(),  # the wipe
    ]
    # The next patient starts without it: the terminal's default is off.
    assert not state.read_aloud


def test_the_configured_default_comes_back_for_every_patient() -> None:
    start = initial_state(read_aloud=True)
    assert start.read_aloud and start.read_aloud_default
    state, _, commands = run(
        [ev.ToggleReadAloud(), ev.ReadAloud("Tap to start"), ev.Tap(), ev.Cancel(), ev.Wiped()],
        start,
    )
    assert spoken(commands) == [cmd.StopSpeaking()]
    assert state.phase is Phase.IDLE and state.read_aloud and state.read_aloud_default


def test_turning_it_off_silences_at_once_and_nothing_more_is_said() -> None:
    state, _, commands = run(
        [
            ev.ToggleReadAloud(),
            ev.ReadAloud("Tap to start"),
            ev.ToggleReadAloud(),
            ev.ReadAloud("Tap to start"),
        ]
    )
    assert spoken(commands) == [cmd.Speak("Tap to start", "nb"), cmd.StopSpeaking()]
    assert not state.read_aloud


def test_staff_screens_are_never_read() -> None:
    nurse = [
        ev.ToggleReadAloud(),
        ev.StaffGesture(StaffRole.NURSE),
        ev.ReadAloud("Nurse: type the staff PIN."),
        ev.Digit("1"),
        ev.SubmitPin(),
        ev.PinChecked(ok=True),
        ev.ReadAloud("Assisted session"),
    ]
    state, phases, commands = run(nurse)
    assert phases == ["idle", "staff_pin", "nurse"]
    assert spoken(commands) == [cmd.StopSpeaking()]  # leaving the start screen
    assert state.read_aloud  # the choice stays with the session the nurse starts


def test_the_screen_asking_to_be_read_does_not_answer_the_idle_warning() -> None:
    state, _, _ = run([ev.ToggleReadAloud(), ev.Tap(), ev.IdleTimeout()])
    assert state.idle_warning
    step = transition(state, ev.ReadAloud("Are you still there?"), 10.0)
    assert step.state.idle_warning
    assert step.commands == (cmd.Speak("Are you still there?", "nb"),)
    # A touch still does.
    touched = transition(step.state, ev.ToggleLargeText(), 11.0)
    assert not touched.state.idle_warning


def test_nothing_to_read_is_ignored_and_a_long_text_refused() -> None:
    state, _, _ = run([ev.ToggleReadAloud()])
    assert transition(state, ev.ReadAloud("  "), 2.0).ignored
    with pytest.raises(ValueError, match="at most 2000 characters"):
        ev.ReadAloud("x" * 2001)
