"""Where the controls are. On the reconnecting screen every place that held a call button
holds the same button or nothing: a patient who reaches for "Show ID" just as the link drops
must not hang up. And the terminal test's taps (tests/e2e/taps.py) land on what they mean.
"""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.base.clock import ManualClock
from kiosk.session import events as ev
from kiosk.session.state import StaffRole
from tests.e2e import taps
from tests.ui.layout_check import shown
from tests.ui.scripted_engine import ScriptedEngine
from tests.ui.test_layout import RESOLUTIONS
from tests.ui.walk import STAFF_PIN, check_variants

CALL_CONTROLS = ("volume_down", "volume_up", "mute", "large_text", "show_id", "hang_up")


def _rect(widget: Any) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def _inside(point: tuple[float, float], widget: Any) -> bool:
    x0, y0, x1, y1 = _rect(widget)
    return x0 <= point[0] <= x1 and y0 <= point[1] <= y1 and widget.width > 0


def fraction_of(widget: Any, size: tuple[int, int]) -> tuple[float, float]:
    """A widget's centre as the terminal test writes places: fractions, (0, 0) top left."""
    x, y = widget.to_window(*widget.center)
    return round(x / size[0], 3), round(1 - y / size[1], 3)


def buttons_at(screen: Any, point: tuple[float, float]) -> set[str]:
    """The ids of the shown buttons on `screen` that a finger at `point` would press."""
    from kivy.uix.behaviors import ButtonBehavior

    return {
        name
        for name, widget in screen.ids.items()
        if isinstance(widget, ButtonBehavior) and shown(widget) and _inside(point, widget)
    }


async def _to_call(pilot: Any, engine: ScriptedEngine) -> None:
    for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
        engine.inject(event)
    await pilot.wait_for_screen("checks")
    for event in (ev.Continue(), ev.Knocked(), ev.Admitted(), ev.CallMediaStarted()):
        engine.inject(event)
    await pilot.wait_for_screen("in_call")
    await pilot.settled()


@pytest.mark.parametrize("size", RESOLUTIONS, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_no_call_button_turns_into_hanging_up_while_reconnecting(
    size: tuple[int, int], kivy_display: str
) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(answer_knocks=False, clock=ManualClock())
    async with run_app(engine, size=size) as pilot:
        await _to_call(pilot, engine)
        call = pilot.screens_widget("in_call")
        places = {name: call.ids[name].to_window(*call.ids[name].center) for name in CALL_CONTROLS}
        for show_id in (False, True):
            if show_id:
                engine.inject(ev.ToggleShowId())
            engine.inject(ev.ParticipantLost())
            engine.inject(ev.StillTrying())
            await pilot.wait_for_screen("reconnecting")
            await pilot.settled()
            reconnecting = pilot.screens_widget("reconnecting")
            for name, point in places.items():
                found = buttons_at(reconnecting, point)
                assert found <= {name}, (size, show_id, name, found)
            # Each of the call's buttons still there is where it was.
            assert buttons_at(reconnecting, places["show_id"]) == {"show_id"}
            assert buttons_at(reconnecting, places["hang_up"]) == {"hang_up"}
            engine.inject(ev.Knocked())
            await pilot.wait_for_screen("waiting")
            engine.inject(ev.Admitted())
            await pilot.wait_for_screen("in_call")
            await pilot.settled()


async def test_the_terminal_tests_taps_land_on_their_controls(kivy_display: str) -> None:
    from kiosk.ui.testing import run_app

    width, height = taps.WINDOW
    engine = ScriptedEngine(
        answer_knocks=False, clock=ManualClock(), checks=check_variants()[-1], pin=STAFF_PIN
    )

    def at(fraction: tuple[float, float]) -> tuple[float, float]:
        return fraction[0] * width, (1 - fraction[1]) * height

    async with run_app(engine, size=taps.WINDOW) as pilot:
        await pilot.settled()
        idle = pilot.screens_widget("idle")
        assert buttons_at(idle, at(taps.START)) == {"start"}
        assert _inside(at(taps.NURSE_CORNER), idle.ids.nurse_corner)
        assert _inside(at(taps.MAINTENANCE_CORNER), idle.ids.maintenance_corner)

        await _to_call(pilot, engine)
        call = pilot.screens_widget("in_call")
        assert buttons_at(call, at(taps.CALL_SHOW_ID)) == {"show_id"}
        assert buttons_at(call, at(taps.CALL_END)) == {"hang_up"}
        engine.inject(ev.HangUp())
        await pilot.wait_for_screen("ended")
        await pilot.settled()
        assert buttons_at(pilot.screens_widget("ended"), at(taps.ENDED_DONE)) == {"done"}
        engine.inject(ev.Dismiss())
        await pilot.wait_for_screen("idle")

        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for_screen("checks")
        await pilot.wait_for(lambda: pilot.screens_widget("checks").asks_for_chime, what="chime")
        await pilot.settled()
        checks = pilot.screens_widget("checks")
        found = fraction_of(checks.ids.heard, taps.WINDOW)
        assert buttons_at(checks, at(taps.CHECKS_HEARD)) == {"heard"}, found
        assert buttons_at(checks, at(taps.CHECKS_KNOCK)) == {"continue"}
        engine.inject(ev.Cancel())
        await pilot.wait_for_screen("idle")

        engine.inject(ev.StaffGesture(StaffRole.MAINTENANCE))
        for event in (*(ev.Digit(d) for d in STAFF_PIN), ev.SubmitPin()):
            engine.inject(event)
        await pilot.wait_for_screen("maintenance")
        await pilot.settled()
        maintenance = pilot.screens_widget("maintenance")
        found = fraction_of(maintenance.ids.test_call, taps.WINDOW)
        assert buttons_at(maintenance, at(taps.MAINTENANCE_TEST_CALL)) == {"test_call"}, found
