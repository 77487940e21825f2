"""The whole journey by touch on the real engine: the local conference node with its
practitioner bot, aiortc calls, PortAudio on a PulseAudio null sink and the synthetic camera.
Only taps drive it; the screenshots go to artifacts/screenshots/nb/journey_*.png."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.cli.demo import demo_config, demo_node
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.ui.messages import CARD_HINTS
from tests.support.pulse import PulseServer
from tests.ui.shots import Shots, text_of

JOURNEY = [
    "idle", "number", "checks", "joining", "waiting", "in_call", "ended", "wiping", "idle",
]  # fmt: skip


async def test_journey_by_touch_on_the_real_engine(
    kivy_display: str, pulse_server: PulseServer, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    folder = screenshots_dir / "nb"
    print(f"screenshots: {folder}")
    async with demo_node(admit_after_s=1.0) as demo:
        config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
        alias = demo.room.alias
        async with running_engine(config) as engine, run_app(engine) as pilot:
            shots = Shots(pilot, folder)
            assert text_of(pilot, "start").endswith("Trykk for å starte")
            await shots.take("journey_idle")

            await pilot.tap("start")
            await pilot.wait_for_screen("number")
            assert pilot.widget("submit").disabled
            for digit in alias:
                await pilot.tap(f"key_{digit}")
            await pilot.wait_for(lambda: engine.state.digits == alias, what="six digits")
            assert [box.text for box in pilot.widget("digits").children[::-1]] == list(alias)
            await pilot.tap("submit")

            await pilot.wait_for_screen("checks")
            await pilot.wait_for(
                lambda: engine.state.checks is not None and engine.state.checks.camera_ok,
                timeout=30,
                what="the camera check",
                explain=lambda: f"checks: {engine.state.checks}",
            )
            await pilot.wait_for(lambda: pilot.app.self_feed.texture is not None, what="picture")
            await shots.take("journey_checks")
            await pilot.tap("continue")

            await pilot.wait_for_screen("waiting", timeout=20)
            await pilot.wait_for(
                lambda: re.fullmatch(r"0\d:\d\d", text_of(pilot, "elapsed")) is not None
            )
            await shots.take("journey_waiting")

            await pilot.wait_for_screen("in_call", timeout=30)
            await pilot.wait_for(lambda: engine.state.remote_media, timeout=20, what="media")
            await pilot.wait_for(
                lambda: pilot.app.remote_feed.frames >= 3, timeout=20, what="remote frames"
            )
            await pilot.wait_for(lambda: text_of(pilot, "connection") != "", what="the badge")
            assert text_of(pilot, "connection") in (
                "God forbindelse",
                "Middels forbindelse",
                "Svak forbindelse",
            )
            await shots.take("journey_in_call")

            # The synthetic scene holds no card: the guide asks for one.
            await pilot.tap("show_id")
            await pilot.wait_for(lambda: engine.card_status() is not None, what="the guide")
            # The screen shows the guide at its next frame. Before the first analysis it says
            # where to hold the card; then what the camera sees (the synthetic scene holds no
            # card).
            await pilot.wait_for(lambda: text_of(pilot, "id_hint") != "", what="the first hint")
            assert text_of(pilot, "id_hint") in (
                "Hold ID-kortet ditt inne i den gule rammen.",
                "Hold legitimasjonen opp mot kameraet.",
            )
            await pilot.wait_for(
                lambda: text_of(pilot, "id_hint") == "Hold legitimasjonen opp mot kameraet.",
                what="the hint for no card",
            )
            assert pilot.widget("card_guide").opacity == 1
            await shots.take("journey_show_id")
            await pilot.tap("show_id")
            await pilot.wait_for(lambda: engine.card_status() is None, what="the guide gone")

            await pilot.tap("hang_up")
            await pilot.wait_for_screen("ended")
            await pilot.tap("done")
            await pilot.wait_for_screen("idle", timeout=15)

            # Nothing of the patient is left: not on any widget, not in the state.
            await pilot.frames(3)
            leaked = [text for text in pilot.texts() if alias in text]
            assert leaked == []
            assert engine.state.digits == "" and engine.state.language == "nb"
            assert pilot.app.self_feed.texture is None
            assert pilot.app.remote_feed.texture is None
            assert engine.task_failures == []
        assert engine.record.phases == JOURNEY
        assert engine.record.tokens_released
        assert set(CARD_HINTS) >= {"card.none", "card.good"}
    assert demo.bot.video_frames_received > 0, "the practitioner saw no video from the kiosk"
