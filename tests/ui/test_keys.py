"""The keyboard lock, phase by phase: no key leads out of the kiosk, and only digits,
Backspace and Enter do anything, and only where a number or PIN is typed."""

from __future__ import annotations

import dataclasses

import pytest

from kiosk.session import events as ev
from kiosk.session.machine import initial_state
from kiosk.session.state import Phase, SessionState
from kiosk.ui.keys import (
    KEY_BACKSPACE,
    KEY_ENTER,
    KEY_NUMPAD_ENTER,
    TYPING_PHASES,
    KeyboardLock,
)

KEY_ESCAPE, KEY_F4, KEY_F11, KEY_TAB, KEY_Q, KEY_7 = 27, 285, 292, 9, 113, 55

ESCAPES = [
    (KEY_ESCAPE, None, []),
    (KEY_F4, None, ["alt"]),
    (KEY_TAB, None, ["alt"]),
    (KEY_Q, "q", ["ctrl"]),
    (KEY_F11, None, []),
    (KEY_7, "7", ["ctrl"]),  # a digit with a modifier is a shortcut, not typing
    (KEY_Q, "q", []),
]


class View:
    def __init__(self, phase: Phase) -> None:
        self.state: SessionState = dataclasses.replace(initial_state(), phase=phase)
        self.sent: list[ev.Intent] = []

    def send(self, intent: ev.Intent) -> None:
        self.sent.append(intent)


@pytest.mark.parametrize("phase", list(Phase))
def test_no_key_and_no_close_request_gets_out_in_any_phase(phase: Phase) -> None:
    view = View(phase)
    lock = KeyboardLock(view)
    answers = [lock.on_keyboard(None, key, 0, text, mods) for key, text, mods in ESCAPES]
    answers.append(lock.on_request_close())
    assert answers == [True] * (len(ESCAPES) + 1)
    assert view.sent == []
    assert lock.swallowed == len(ESCAPES) + 1


@pytest.mark.parametrize("phase", sorted(TYPING_PHASES, key=lambda p: p.value))
def test_digits_backspace_and_enter_type_where_a_number_is_asked(phase: Phase) -> None:
    view = View(phase)
    lock = KeyboardLock(view)
    lock.on_keyboard(None, KEY_7, 36, "7", [])
    lock.on_keyboard(None, KEY_BACKSPACE, 42, None, [])
    lock.on_keyboard(None, KEY_ENTER, 40, None, [])
    lock.on_keyboard(None, KEY_NUMPAD_ENTER, 88, None, [])
    submit = ev.SubmitPin() if phase is Phase.STAFF_PIN else ev.SubmitNumber()
    assert view.sent == [ev.Digit("7"), ev.DeleteDigit(), submit, submit]


@pytest.mark.parametrize("phase", sorted(set(Phase) - TYPING_PHASES, key=lambda p: p.value))
def test_typing_does_nothing_elsewhere(phase: Phase) -> None:
    view = View(phase)
    lock = KeyboardLock(view)
    for key, text in ((KEY_7, "7"), (KEY_BACKSPACE, None), (KEY_ENTER, None)):
        assert lock.on_keyboard(None, key, 0, text, [])
    assert view.sent == []


def test_only_single_ascii_digits_are_typed() -> None:
    view = View(Phase.NUMBER)
    lock = KeyboardLock(view)
    for text in ("77", "", "\u00b2", "\u0663", "\uff17"):  # composed text, ², ٣, ７
        lock.on_keyboard(None, 0, 0, text, [])
    assert view.sent == []
