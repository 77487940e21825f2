"""Every screen and overlay in every language, reached through the real session machine, with
a screenshot of each under artifacts/screenshots/<lang>/ (checked not blank)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.base.clock import ManualClock
from kiosk.session import events as ev
from kiosk.session.state import (
    CheckLine,
    CheckStatus,
    CheckSummary,
    ErrorKind,
    StaffRole,
)
from kiosk.ui.i18n import Catalogues
from kiosk.ui.messages import CARD_HINTS
from kiosk.vision.idcard import CardStatus
from tests.ui.scripted_engine import ScriptedEngine
from tests.ui.shots import Shots, text_of

LANGUAGES = ("nb", "nn", "en", "se")
STAFF_PIN = "246813"
CARD_STATES = ("card.none", "card.glare", "card.good")

# A check screen with something to say on every line, one of them failed.
MIXED_CHECKS = CheckSummary(
    camera_ok=True,
    microphone_ok=False,
    speaker_ok=False,
    lines=(
        CheckLine("camera", CheckStatus.PASS, "camera.ok"),
        CheckLine("light", CheckStatus.WARN, "light.backlit"),
        CheckLine("framing", CheckStatus.WARN, "framing.people_count", "faces=2"),
        CheckLine("microphone", CheckStatus.RUNNING, "microphone.say_something"),
        CheckLine("speaker", CheckStatus.WARN, "speaker.confirm"),
        CheckLine("network", CheckStatus.FAIL, "network.node_unreachable"),
    ),
)

SCREENS = [
    "idle", "idle_large_text", "number", "number_qr_refused", "idle_warning", "checks",
    "joining", "waiting", "in_call", "in_call_card_none", "in_call_card_glare",
    "in_call_card_good", "reconnecting", "waiting_again", "ended", "staff_pin",
    "staff_pin_wrong", "nurse", "in_call_nurse_hint", "maintenance", "error",
]  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_screen_in_language(
    language: str, kivy_display: str, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    clock = ManualClock()
    engine = ScriptedEngine(answer_knocks=False, clock=clock, checks=MIXED_CHECKS, pin=STAFF_PIN)
    catalogue = Catalogues([language])

    def tr(message: str) -> str:
        return catalogue.gettext(language, message)

    folder = screenshots_dir / language
    print(f"screenshots: {folder}")
    async with run_app(engine) as pilot:
        shots = Shots(pilot, folder)

        async def step(*events: ev.Event, screen: str) -> None:
            for event in events:
                engine.inject(event)
            await pilot.wait_for_screen(screen)

        async def choose_language() -> None:
            if language != "nb":
                await pilot.tap(f"lang_{language}")
            await pilot.wait_for(lambda: pilot.app.language == language, what=language)

        await choose_language()
        assert text_of(pilot, "start").endswith(tr("Tap to start"))
        await shots.take("idle")

        # Larger text, live, on every font; off again for the rest.
        body = pilot.widget("hint").font_size
        await pilot.tap("large_text")
        await pilot.wait_for(lambda: pilot.widget("hint").font_size > body * 1.25)
        assert pilot.widget("hint").font_size == pytest.approx(body * 1.3)
        await shots.take("idle_large_text")
        await pilot.tap("large_text")
        await pilot.wait_for(lambda: pilot.widget("hint").font_size == body)

        await step(ev.Tap(), *(ev.Digit(d) for d in "123456"), screen="number")
        assert text_of(pilot, "qr_hint") == tr(
            "You can also hold the QR code from the invitation up to the camera."
        )
        await shots.take("number")
        await step(ev.QrRefused("qr.host_not_allowed"), screen="number")
        await pilot.wait_for(lambda: text_of(pilot, "notice") != "")
        assert text_of(pilot, "notice") == tr(
            "This QR code is not from the clinic. Type the number from the text message."
        )
        assert text_of(pilot, "qr_hint") == ""
        await shots.take("number_qr_refused")

        engine.inject(ev.IdleTimeout())
        await pilot.wait_for(lambda: pilot.app.root.ids.idle_warning.shown, what="idle warning")
        await clock.advance(4.2)
        await pilot.wait_for(lambda: "26" in pilot.widget("idle_countdown").text)
        assert text_of(pilot, "idle_question") == tr("Are you still there?")
        await shots.take("idle_warning")
        await pilot.tap("still_here")
        await pilot.wait_for(lambda: not engine.state.idle_warning, what="warning answered")

        await step(ev.SubmitNumber(), screen="checks")
        await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
        await pilot.wait_for(lambda: pilot.widget("phone").opacity == 1, what="clinic phone")
        line_texts = [w.ids.text.text for w in pilot.widget("lines").children]
        assert any(tr("Do not sit with the window behind you.") in t for t in line_texts)
        assert any(" 2 " in t for t in line_texts), line_texts  # the face count
        assert "22 11 44 00" in text_of(pilot, "phone")
        assert not pilot.widget("heard").disabled
        await shots.take("checks")

        await step(ev.Continue(), screen="joining")
        await shots.take("joining")
        await step(ev.Knocked(), screen="waiting")
        assert text_of(pilot, "status") == tr("The clinician will let you in soon.")
        await shots.take("waiting")
        await step(ev.Admitted(), ev.CallMediaStarted(), screen="in_call")
        await pilot.wait_for(lambda: text_of(pilot, "connection") != "", what="badge")
        assert text_of(pilot, "connection") == tr("Good connection")
        assert text_of(pilot, "nurse_hint") == ""  # not an assisted session
        await shots.take("in_call")

        await step(ev.ToggleShowId(), screen="in_call")
        guide_colours = []
        for hint in CARD_STATES:
            engine.card = CardStatus(hint, None, 0.0)
            await pilot.wait_for(lambda h=hint: text_of(pilot, "id_hint") == tr(CARD_HINTS[h]))
            guide_colours.append(pilot.app.card_good)
            await shots.take(f"in_call_{hint.replace('.', '_')}")
        assert guide_colours == [False, False, True]
        await step(ev.ToggleShowId(), screen="in_call")

        await step(ev.ParticipantLost(), ev.StillTrying(), screen="reconnecting")
        await pilot.wait_for(lambda: text_of(pilot, "still_trying") != "")
        assert "22 11 44 00" in text_of(pilot, "phone")
        await shots.take("reconnecting")
        await step(ev.Knocked(), screen="waiting")
        await pilot.wait_for(
            lambda: text_of(pilot, "status") == tr("The clinician will let you in again soon.")
        )
        await shots.take("waiting_again")
        await step(ev.Admitted(), ev.HangUp(), screen="ended")
        await shots.take("ended")
        await step(ev.Dismiss(), screen="idle")
        assert pilot.app.language == "nb"  # the next patient starts in the default language

        # Staff: the PIN pad, a wrong PIN, then the nurse's own screen.
        await choose_language()
        nurse = ev.StaffGesture(StaffRole.NURSE)
        await step(nurse, ev.Digit("1"), ev.Digit("3"), screen="staff_pin")
        await pilot.wait_for(lambda: text_of(pilot, "dots") == "\u2022 \u2022")
        await shots.take("staff_pin")
        await step(*(ev.Digit(d) for d in "57"), ev.SubmitPin(), screen="staff_pin")
        await pilot.wait_for(lambda: text_of(pilot, "notice") == tr("Wrong PIN."))
        await pilot.wait_for(lambda: text_of(pilot, "wait") != "", what="the wait")
        await shots.take("staff_pin_wrong")
        await clock.advance(1.5)
        await step(*(ev.Digit(d) for d in STAFF_PIN), ev.SubmitPin(), screen="nurse")
        for letter in "kari":
            await pilot.tap(f"letter_{letter}")
        await pilot.wait_for(lambda: engine.state.display_name == "Kari", what="the name")
        await step(*(ev.Digit(d) for d in "654321"), screen="nurse")
        await shots.take("nurse")
        await step(ev.SubmitNumber(), ev.Continue(), ev.Knocked(), ev.Admitted(), screen="in_call")
        await pilot.wait_for(lambda: text_of(pilot, "nurse_hint") != "", what="nurse hint")
        assert text_of(pilot, "nurse_hint") == tr(
            "The patient has been let in. You can leave the room now."
        )
        await shots.take("in_call_nurse_hint")
        await clock.advance(21)
        await pilot.wait_for(lambda: text_of(pilot, "nurse_hint") == "", what="hint gone")
        await step(ev.HangUp(), ev.Dismiss(), screen="idle")
        # The finished session leaves nothing behind: no name, number or language.
        await pilot.frames(2)
        assert [t for t in pilot.texts() if "Kari" in t or "654321" in t] == []
        assert pilot.app.language == "nb" and engine.state.display_name == ""

        await choose_language()
        await step(ev.StaffGesture(StaffRole.MAINTENANCE), screen="staff_pin")
        await step(*(ev.Digit(d) for d in STAFF_PIN), ev.SubmitPin(), screen="maintenance")
        await pilot.tap("rerun")
        await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
        assert "0.1.0" in text_of(pilot, "version")
        await shots.take("maintenance")
        await step(ev.Dismiss(), screen="idle")

        await choose_language()
        await step(ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber(), screen="checks")
        await step(ev.Continue(), ev.JoinFailed(ErrorKind.LOBBY_TIMEOUT), screen="error")
        await shots.take("error")
    assert shots.taken == SCREENS
    assert engine.phases.count("staff_pin") == 2
