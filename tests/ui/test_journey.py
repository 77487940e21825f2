"""The whole journey through taps on the real window, one run per language, with a
screenshot of every screen under artifacts/screenshots/<lang>/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from kiosk.session import events as ev
from kiosk.session.machine import STILL_TRYING_TIMER
from kiosk.session.state import ErrorKind
from tests.ui.scripted_engine import ScriptedEngine

LANGUAGES = ("nb", "nn", "en", "se")


def assert_not_blank(image: npt.NDArray[np.uint8], what: str) -> None:
    colours = np.unique(image[::8, ::8].reshape(-1, 3), axis=0)
    assert image.std() > 12 and len(colours) >= 4, (
        f"{what}: expected a drawn screen (got std {image.std():.1f}, {len(colours)} colours)"
    )


class Shots:
    def __init__(self, pilot: Any, folder: Path) -> None:
        self.pilot = pilot
        self.folder = folder
        self.taken: list[str] = []

    async def take(self, name: str) -> None:
        image = await self.pilot.screenshot(self.folder / f"{name}.png")
        assert_not_blank(image, name)
        self.taken.append(name)


def text_of(pilot: Any, widget_id: str) -> str:
    text: str = pilot.widget(widget_id).text
    return text


async def test_journey_by_touch_through_every_screen(
    kivy_display: str, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(answer_knocks=False)
    folder = screenshots_dir / "nb"
    print(f"screenshots: {folder}")
    async with run_app(engine) as pilot:
        shots = Shots(pilot, folder)
        assert text_of(pilot, "start").endswith("Trykk for å starte")
        await shots.take("idle")

        await pilot.tap("start")
        await pilot.wait_for_screen("number")
        assert pilot.widget("submit").disabled
        for digit in "4815162":  # one too many: the seventh is refused by the machine
            await pilot.tap(f"key_{digit}")
        await pilot.tap("delete")
        await pilot.tap("key_9")
        await pilot.wait_for(lambda: engine.state.digits == "481519", what="six digits")
        assert not pilot.widget("submit").disabled
        await shots.take("number")

        await pilot.tap("submit")
        await pilot.wait_for_screen("checks")
        await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
        await pilot.tap("heard")
        await pilot.wait_for(lambda: not pilot.screens_widget("checks").asks_for_chime)
        await shots.take("checks")

        await pilot.tap("continue")
        await pilot.wait_for_screen("joining")
        await shots.take("joining")
        engine.inject(ev.Knocked())
        await pilot.wait_for_screen("waiting")
        await pilot.wait_for(
            lambda: re.fullmatch(r"0\d:\d\d", text_of(pilot, "elapsed")) is not None
        )
        await shots.take("waiting")

        engine.inject(ev.Admitted())
        engine.inject(ev.CallMediaStarted())
        await pilot.wait_for_screen("in_call")
        await pilot.tap("volume_down")
        await pilot.tap("mute")
        await pilot.wait_for(lambda: engine.state.muted, what="muted")
        await shots.take("in_call")
        await pilot.tap("show_id")
        await pilot.wait_for(lambda: engine.state.show_id, what="show ID")
        await shots.take("in_call_show_id")
        await pilot.tap("show_id")

        engine.inject(ev.MediaLost())
        await pilot.wait_for_screen("reconnecting")
        assert text_of(pilot, "still_trying") == ""
        engine.inject(ev.TimerFired(STILL_TRYING_TIMER))
        await pilot.wait_for(lambda: text_of(pilot, "still_trying") != "")
        await shots.take("reconnecting")
        engine.inject(ev.MediaRestored())
        await pilot.wait_for_screen("in_call")

        await pilot.tap("hang_up")
        await pilot.wait_for_screen("ended")
        await shots.take("ended")
        await pilot.tap("done")
        await pilot.wait_for_screen("idle")

        # The next patient, who typed a number that does not exist.
        engine.join_result = ErrorKind.NOT_FOUND
        engine.answer_knocks = True
        await pilot.tap("start")
        await pilot.wait_for_screen("number")
        for digit in "000000":
            await pilot.tap(f"key_{digit}")
        await pilot.tap("submit")
        await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
        await pilot.tap("continue")
        await pilot.wait_for_screen("error")
        assert pilot.widget("knock_again").disabled and not pilot.widget("another_number").disabled
        assert "22 11 44 00" in text_of(pilot, "phone")
        await shots.take("error")
        await pilot.tap("another_number")
        await pilot.wait_for_screen("number")
        assert engine.state.digits == ""

    assert engine.phases == [
        "idle", "number", "checks", "joining", "waiting", "in_call", "reconnecting", "in_call",
        "ended", "wiping", "idle", "number", "checks", "joining", "error", "number",
    ]  # fmt: skip
    mute_and_volume = [i for i in engine.intents if isinstance(i, ev.ChangeVolume | ev.ToggleMute)]
    assert mute_and_volume == [ev.ChangeVolume(-0.1), ev.ToggleMute()]
    assert engine.state.session_number == 1
    assert shots.taken == [
        "idle", "number", "checks", "joining", "waiting", "in_call", "in_call_show_id",
        "reconnecting", "ended", "error",
    ]  # fmt: skip


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "nb"])
async def test_every_screen_in_language(
    language: str, kivy_display: str, screenshots_dir: Path
) -> None:
    """The language switches live from the start screen; the rest is driven by events."""
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(answer_knocks=False)
    folder = screenshots_dir / language
    print(f"screenshots: {folder}")
    async with run_app(engine) as pilot:
        shots = Shots(pilot, folder)
        before = text_of(pilot, "hint")
        await pilot.tap(f"lang_{language}")
        await pilot.wait_for(lambda: text_of(pilot, "hint") != before, what="new language")
        assert pilot.app.language == language
        await shots.take("idle")
        script: list[tuple[list[ev.Event], str]] = [
            ([ev.Tap(), *(ev.Digit(d) for d in "123456")], "number"),
            ([ev.SubmitNumber()], "checks"),
            ([ev.Continue()], "joining"),
            ([ev.Knocked()], "waiting"),
            ([ev.Admitted(), ev.CallMediaStarted()], "in_call"),
            ([ev.MediaLost(), ev.TimerFired(STILL_TRYING_TIMER)], "reconnecting"),
            ([ev.HangUp()], "ended"),
        ]
        for events, screen in script:
            for event in events:
                engine.inject(event)
            await pilot.wait_for_screen(screen)
            if screen == "checks":
                await pilot.wait_for(lambda: engine.state.checks is not None)
            await shots.take(screen)
        engine.inject(ev.Dismiss())
        await pilot.wait_for_screen("idle")
        # A new session starts in the default language again.
        assert pilot.app.language == "nb"
        engine.inject(ev.SetLanguage(language))
        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for(lambda: engine.state.checks is not None)
        engine.inject(ev.Continue())
        engine.inject(ev.Knocked())
        engine.inject(ev.JoinFailed(ErrorKind.LOBBY_TIMEOUT))
        await pilot.wait_for_screen("error")
        await shots.take("error")
    assert shots.taken == [
        "idle", "number", "checks", "joining", "waiting", "in_call", "reconnecting", "ended",
        "error",
    ]  # fmt: skip
