"""Touch targets and type on the terminal's screen: a 15.6" panel at 1920x1080.

WCAG asks 44 CSS px; for elderly fingers every button here must be at least 15 mm, and body
text at least the equivalent of 24 px at 1080p. Every screen is visited, large text off.
"""

from __future__ import annotations

import math
from typing import Any

from kiosk.session import events as ev
from kiosk.session.state import ErrorKind, StaffRole
from tests.ui.scripted_engine import ScriptedEngine

SIZE = (1920, 1080)
DIAGONAL_IN = 15.6
PX_PER_MM = math.hypot(*SIZE) / (DIAGONAL_IN * 25.4)
MIN_TARGET_PX = 15.0 * PX_PER_MM  # ~83 px
MIN_TEXT_PX = 24.0 * SIZE[1] / 1080


def _shown(widget: Any) -> bool:
    # Up to the window, whose parent is itself.
    while widget is not None and widget.parent is not widget:
        if getattr(widget, "opacity", 1) == 0 or getattr(widget, "disabled", False):
            return False
        widget = widget.parent
    return True


def _measure(pilot: Any) -> tuple[list[str], list[str], int]:
    from kivy.uix.button import Button
    from kivy.uix.label import Label

    small_targets, small_text = [], []
    buttons = 0
    roots = [pilot.app.root.ids.screens.current_screen]
    if pilot.app.root.ids.idle_warning.shown:
        roots.append(pilot.app.root.ids.idle_warning)
    for root in roots:
        for widget in root.walk():
            if not _shown(widget):
                continue
            name = f"{pilot.screen_name}:{widget.text[:20]!r}" if hasattr(widget, "text") else ""
            buttons += isinstance(widget, Button)
            if isinstance(widget, Button) and min(widget.size) < MIN_TARGET_PX:
                small_targets.append(f"{name} {widget.width:.0f}x{widget.height:.0f}")
            if isinstance(widget, Label) and widget.text and widget.font_size < MIN_TEXT_PX:
                small_text.append(f"{name} {widget.font_size:.0f}px")
    return small_targets, small_text, buttons


async def test_every_button_is_15_mm_and_text_24_px_on_the_terminal(kivy_display: str) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(answer_knocks=False, pin="246813")
    visits: list[tuple[list[ev.Event], str]] = [
        ([], "idle"),
        ([ev.Tap(), *(ev.Digit(d) for d in "123456")], "number"),
        ([ev.IdleTimeout()], "number"),  # the idle warning over it
        ([ev.StillHere(), ev.SubmitNumber()], "checks"),
        ([ev.Continue()], "joining"),
        ([ev.Knocked()], "waiting"),
        ([ev.Admitted(), ev.CallMediaStarted(), ev.ToggleShowId()], "in_call"),
        ([ev.MediaLost(), ev.StillTrying()], "reconnecting"),
        ([ev.HangUp()], "ended"),
        ([ev.Dismiss()], "idle"),
        ([ev.StaffGesture(StaffRole.NURSE)], "staff_pin"),
        ([*(ev.Digit(d) for d in "246813"), ev.SubmitPin()], "nurse"),
        ([ev.Cancel()], "idle"),
        ([ev.StaffGesture(StaffRole.MAINTENANCE)], "staff_pin"),
        ([*(ev.Digit(d) for d in "246813"), ev.SubmitPin()], "maintenance"),
        ([ev.Dismiss()], "idle"),
        ([ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()], "checks"),
        ([ev.Continue(), ev.JoinFailed(ErrorKind.NOT_FOUND)], "error"),
    ]
    seen: list[str] = []
    async with run_app(engine, size=SIZE) as pilot:
        from kivy.core.window import Window

        assert tuple(Window.size) == SIZE
        for events, screen in visits:
            for event in events:
                engine.inject(event)
            await pilot.wait_for_screen(screen)
            if screen == "checks":
                await pilot.wait_for(lambda: engine.state.checks is not None)
            await pilot.frames(2)
            targets, text, buttons = _measure(pilot)
            assert buttons >= 1, screen
            assert targets == [], f"buttons under {MIN_TARGET_PX:.0f} px"
            assert text == [], f"text under {MIN_TEXT_PX:.0f} px"
            seen.append(f"{screen}:{buttons}")
    # The nurse screen's letter keyboard and number pad are measured too.
    nurse_buttons = int(seen[11].split(":")[1])
    assert seen[11].startswith("nurse:") and nurse_buttons >= 40, seen
