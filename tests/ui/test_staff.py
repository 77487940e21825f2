"""Staff by touch: the hidden corner gesture, the PIN pad's lockout on the real engine, and the
wipe after a nurse walks away from a half-filled session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.base.clock import ManualClock
from kiosk.base.pins import hash_pin
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.session import events as ev
from kiosk.session.state import Phase, SessionState, StaffRole
from tests.support.pulse import PulseServer
from tests.ui.scripted_engine import ScriptedEngine
from tests.ui.shots import Shots, text_of

NURSE_PIN = "246813"
WRONG_PIN = "111111"
LONG_PRESS_S = 3.3


async def test_corner_gesture_opens_the_pin_pad_and_a_tap_still_starts(
    kivy_display: str,
) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine()
    async with run_app(engine) as pilot:
        corners = (pilot.widget("nurse_corner"), pilot.widget("maintenance_corner"))
        assert [corner.opacity for corner in corners] == [1, 1]
        assert all(not corner.canvas.children for corner in corners)  # draws nothing

        # A short touch in the corner is an ordinary tap.
        await pilot.tap("nurse_corner")
        await pilot.wait_for_screen("number")
        await pilot.tap("cancel")
        await pilot.wait_for_screen("idle")

        await pilot.tap("nurse_corner", hold_s=LONG_PRESS_S)
        await pilot.wait_for_screen("staff_pin")
        assert engine.state.staff_role is StaffRole.NURSE
        assert text_of(pilot, "title") == "Sykepleier: skriv PIN-koden for ansatte."
        await pilot.tap("cancel")
        await pilot.wait_for_screen("idle")

        await pilot.tap("maintenance_corner", hold_s=LONG_PRESS_S)
        await pilot.wait_for_screen("staff_pin")
        assert engine.state.staff_role is StaffRole.MAINTENANCE
        await pilot.tap("cancel")
        await pilot.wait_for_screen("idle")

        # A long press anywhere else is still a patient's tap.
        await pilot.tap("start", hold_s=LONG_PRESS_S)
        await pilot.wait_for_screen("number")
    assert engine.intents == [
        ev.Tap(), ev.Cancel(),
        ev.StaffGesture(StaffRole.NURSE), ev.Cancel(),
        ev.StaffGesture(StaffRole.MAINTENANCE), ev.Cancel(),
        ev.Tap(),
    ]  # fmt: skip


async def _type_pin(pilot: Any, pin: str) -> None:
    for digit in pin:
        await pilot.tap(f"key_{digit}")
    await pilot.wait_for(lambda: text_of(pilot, "dots").count("\u2022") == len(pin), what="dots")
    await pilot.tap("submit")


async def test_pin_lockout_then_an_abandoned_nurse_session_is_wiped(
    kivy_display: str, pulse_server: PulseServer, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    clock = ManualClock()
    config = KioskConfig(
        camera="synthetic",
        node_url="http://127.0.0.1:9",
        allowed_hosts=("127.0.0.1",),
        clinic_phone="22 11 44 00",
        nurse_pin_hash=hash_pin(NURSE_PIN, n=2**10),
    )
    states: list[SessionState] = []
    async with running_engine(config, clock=clock) as engine, run_app(engine) as pilot:
        shots = Shots(pilot, screenshots_dir / "nb")
        engine.subscribe(states.append)
        await pilot.tap("nurse_corner", hold_s=LONG_PRESS_S)
        await pilot.wait_for_screen("staff_pin")

        waits = []
        for attempt in range(1, 6):
            await _type_pin(pilot, WRONG_PIN)
            await pilot.wait_for(lambda a=attempt: engine.state.pin_failures == a, what="refusal")
            await pilot.wait_for(lambda: text_of(pilot, "wait") != "", what="the wait")
            assert text_of(pilot, "dots") == ""  # the PIN is gone from the pad at once
            waits.append((text_of(pilot, "notice"), text_of(pilot, "wait")))
            if attempt < 5:
                await clock.advance(2.0 ** (attempt - 1) + 0.1)
        assert waits == [
            ("Feil PIN.", "Prøv igjen om 1 s."),
            ("Feil PIN.", "Prøv igjen om 2 s."),
            ("Feil PIN.", "Prøv igjen om 4 s."),
            ("Feil PIN.", "Prøv igjen om 8 s."),
            ("For mange feil PIN-koder. Tastaturet er låst.", "Prøv igjen om 300 s."),
        ]
        await shots.take("staff_pin_locked")

        # The right PIN while locked is refused without being checked.
        checked_before = sum(1 for s in states if s.pin_checking)
        await _type_pin(pilot, NURSE_PIN)
        await pilot.wait_for(lambda: engine.state.pin_digits == "", what="the pad cleared")
        await pilot.frames(3)
        assert sum(1 for s in states if s.pin_checking) == checked_before == 5
        assert engine.state.phase is Phase.STAFF_PIN and engine.state.pin_failures == 5
        assert text_of(pilot, "notice") == "For mange feil PIN-koder. Tastaturet er låst."

        # Left alone, the pad asks whether anyone is there, then goes back to the start.
        await clock.advance(91)
        await pilot.wait_for(lambda: pilot.app.root.ids.idle_warning.shown, what="warning")
        assert text_of(pilot, "idle_countdown") == "Skjermen begynner på nytt om 30 sekunder."
        await clock.advance(31)
        await pilot.wait_for_screen("idle")
        assert engine.state.pin_failures == 5  # the lockout outlives the wipe

        await clock.advance(200)
        await pilot.tap("nurse_corner", hold_s=LONG_PRESS_S)
        await pilot.wait_for_screen("staff_pin")
        await _type_pin(pilot, NURSE_PIN)
        await pilot.wait_for_screen("nurse")

        # The nurse fills in most of a session, then walks away.
        for key in ("letter_o", "letter_l", "letter_a", "letter_space", "letter_n"):
            await pilot.tap(key)
        await pilot.tap("letter_delete")
        await pilot.wait_for(lambda: engine.state.display_name == "Ola", what="the name")
        assert text_of(pilot, "name") == "Ola "
        for digit in "135790":
            await pilot.tap(f"key_{digit}")
        await pilot.tap("lang_en")
        await pilot.tap("large_text")
        await pilot.wait_for(lambda: pilot.app.font_scale > 1.0, what="large text")
        assert pilot.app.language == "en" and engine.state.digits == "135790"
        assert not pilot.widget("submit").disabled
        await clock.advance(90)  # the last touch restarted the 90 s idle timer
        await pilot.wait_for(lambda: pilot.app.root.ids.idle_warning.shown, what="warning")
        await clock.advance(10)
        await pilot.wait_for(
            lambda: text_of(pilot, "idle_countdown") == "The screen starts over in 20 seconds.",
            what="the countdown",
        )
        assert text_of(pilot, "idle_question") == "Are you still there?"
        await clock.advance(21)
        await pilot.wait_for_screen("idle")
        await pilot.frames(3)

        texts = pilot.texts()
        assert [t for t in texts if "135790" in t or "Ola" in t] == []
        assert not any("Tap to start" in t for t in texts)  # bokmål again
        assert pilot.app.language == "nb" and pilot.app.font_scale == 1.0
        state = engine.state
        assert (state.digits, state.display_name, state.language) == ("", "", "nb")
        assert (state.large_text, state.assisted, state.staff_role) == (False, False, None)
    phases = [
        s.phase.value for i, s in enumerate(states) if i == 0 or s.phase is not states[i - 1].phase
    ]
    assert phases == [
        "staff_pin", "wiping", "idle", "staff_pin", "nurse", "wiping", "idle",
    ]  # fmt: skip
