"""The app's edges: the keyboard lock, the systemd callbacks, video textures, notices."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from kiosk.engine.view import DeviceNotice
from kiosk.session import events as ev
from tests.ui.scripted_engine import ScriptedEngine

# SDL key codes as Kivy reports them.
ESCAPE, TAB, F4, F11, KEY_Q, KEY_3, BACKSPACE = 27, 9, 285, 292, 113, 51, 8


async def test_no_key_or_close_request_gets_out_of_the_kiosk(kivy_display: str) -> None:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.ui.testing import run_app

    engine = ScriptedEngine()
    async with run_app(engine) as pilot:
        attempts = [
            (ESCAPE, 41, None, []),
            (F4, 61, None, ["alt"]),
            (TAB, 43, None, ["alt"]),
            (KEY_Q, 20, "q", ["ctrl"]),
            (F11, 68, None, []),
        ]
        answers = [Window.dispatch("on_keyboard", *attempt) for attempt in attempts]
        answers.append(Window.dispatch("on_request_close"))
        await pilot.frames(3)
        assert answers == [True] * 6
        assert EventLoop.status == "started" and not EventLoop.quit
        assert pilot.screen_name == "idle"
        assert engine.intents == []

        # On the number screen a keyboard can type digits; with a modifier it does nothing.
        await pilot.tap("start")
        await pilot.wait_for_screen("number")
        Window.dispatch("on_keyboard", KEY_3, 32, "3", [])
        Window.dispatch("on_keyboard", KEY_3, 32, "3", ["ctrl"])
        Window.dispatch("on_keyboard", BACKSPACE, 42, None, [])
        await pilot.frames(2)
        assert engine.intents == [ev.Tap(), ev.Digit("3"), ev.DeleteDigit()]
        assert EventLoop.status == "started"


async def test_first_frame_once_and_a_tick_every_second(kivy_display: str) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine()
    async with run_app(engine) as pilot:
        firsts: list[str] = []
        ticks: list[float] = []
        # run_app used on_first_frame itself to know the start screen was drawn.
        assert pilot.app._first_frame_sent
        pilot.app.on_first_frame = lambda: firsts.append("again")
        pilot.app.on_ui_tick = lambda: ticks.append(asyncio.get_running_loop().time())
        await pilot.tap("start")
        await pilot.wait_for_screen("number")
        await pilot.wait_for(lambda: len(ticks) >= 3, timeout=10, what="three ticks")
    assert firsts == []
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert all(0.5 < gap < 3.0 for gap in gaps), gaps


async def test_video_textures_are_made_once_and_updated_in_place(kivy_display: str) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(answer_knocks=True)
    async with run_app(engine) as pilot:
        feed = pilot.app.self_feed
        assert feed.texture is None
        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for_screen("checks")
        await pilot.wait_for(lambda: feed.frames >= 3, what="three camera frames")
        texture: Any = feed.texture
        assert tuple(texture.size) == engine.camera_size
        await pilot.wait_for(lambda: feed.frames >= 6, what="three more frames")
        assert feed.texture is texture
        # The picture on screen is the camera's, not the backdrop.
        view = pilot.widget("self_view")
        x, y = (int(v) for v in view.to_window(*view.center))
        image = pilot.pixels()
        assert image[image.shape[0] - 1 - y, x].tolist() != [0, 0, 0]

        # A camera with another resolution gets a new texture, once.
        engine.camera_size = (320, 240)
        start = feed.frames
        await pilot.wait_for(lambda: feed.frames >= start + 3, what="frames at the new size")
        resized: Any = feed.texture
        assert tuple(resized.size) == (320, 240)

        engine.inject(ev.Cancel())
        await pilot.wait_for_screen("idle")
        assert feed.texture is None  # the patient's picture is gone with the session


async def test_device_notices_show_during_the_session_only(kivy_display: str) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(devices=DeviceNotice(camera_synthetic=True))
    async with run_app(engine) as pilot:
        await pilot.frames(2)
        assert pilot.app.notice_text == ""  # the start screen stays calm
        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for_screen("checks")
        await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
        await pilot.frames(30)  # more than a second: the app looks at the devices each second
        # The check lines say it there; the banner would say it twice.
        assert pilot.app.notice_text == ""
        engine.inject(ev.Continue())
        await pilot.wait_for_screen("joining")
        await pilot.wait_for(lambda: pilot.app.notice_text != "", timeout=10)
        assert pilot.app.notice_text.startswith("Kameraet er ikke tilgjengelig")
        assert pilot.app.root.ids.notice.height > 0
