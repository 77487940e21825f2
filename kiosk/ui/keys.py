"""The keyboard lock: a kiosk has no way out through the keyboard.

Escape, Alt+F4, Alt+Tab, Ctrl+Q, F11 and every other key are swallowed; the window's close
request is refused. The only keys that do anything are digits, Backspace and Enter on the
number, nurse and staff PIN screens, for a nurse with a keyboard.
"""

from __future__ import annotations

from typing import Any, Protocol

from kiosk.session import events as ev
from kiosk.session.state import Phase, SessionState

KEY_BACKSPACE = 8
KEY_ENTER = 13
KEY_NUMPAD_ENTER = 271
ASCII_DIGITS = "0123456789"
TYPING_PHASES = frozenset({Phase.NUMBER, Phase.NURSE, Phase.STAFF_PIN})


class _View(Protocol):
    @property
    def state(self) -> SessionState: ...

    def send(self, intent: ev.Intent) -> None: ...


class KeyboardLock:
    def __init__(self, view: _View) -> None:
        self._view = view
        self.swallowed = 0  # keys and close requests refused, for tests and the log

    def attach(self, window: Any) -> None:
        window.bind(on_keyboard=self.on_keyboard, on_request_close=self.on_request_close)

    def detach(self, window: Any) -> None:
        window.unbind(on_keyboard=self.on_keyboard, on_request_close=self.on_request_close)

    def on_request_close(self, *_args: object, **_kwargs: object) -> bool:
        self.swallowed += 1
        return True

    def on_keyboard(
        self,
        _window: object,
        key: int,
        _scancode: int | None = None,
        codepoint: str | None = None,
        modifiers: list[str] | None = None,
        *_rest: object,
    ) -> bool:
        phase = self._view.state.phase
        if phase in TYPING_PHASES and not modifiers:
            # ASCII only: str.isdigit() also holds for "²" and other scripts' digits.
            if codepoint and len(codepoint) == 1 and codepoint in ASCII_DIGITS:
                self._view.send(ev.Digit(codepoint))
            elif key == KEY_BACKSPACE:
                self._view.send(ev.DeleteDigit())
            elif key in (KEY_ENTER, KEY_NUMPAD_ENTER):
                submit = ev.SubmitPin() if phase is Phase.STAFF_PIN else ev.SubmitNumber()
                self._view.send(submit)
        self.swallowed += 1
        return True
