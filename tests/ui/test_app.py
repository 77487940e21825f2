"""The app's edges: the keyboard lock, the systemd callbacks, video textures, notices."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from typing import Any

from kiosk.engine.view import DeviceNotice, RgbFrame
from kiosk.session import events as ev
from tests.ui.scripted_engine import ScriptedEngine, synthetic_frame

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


@dataclass
class TimedEngine(ScriptedEngine):
    """Camera and clinician pictures at rates of their own, out of step; the clinician's
    can freeze."""

    mirror_hz: float = 15.0
    remote_hz: float = 5.0
    remote_frozen: bool = False

    def self_view_frame(self) -> tuple[int, RgbFrame] | None:
        seq = int(time.monotonic() * self.mirror_hz)
        return seq, synthetic_frame(*self.camera_size, seq, (255, 160, 60))

    def remote_frame(self) -> tuple[int, RgbFrame] | None:
        seq = 0 if self.remote_frozen else int(time.monotonic() * self.remote_hz + 0.5)
        return seq, synthetic_frame(*self.remote_size, seq, (60, 200, 255))


async def test_in_the_call_the_small_mirror_is_redrawn_with_the_clinicians_picture(
    kivy_display: str,
) -> None:
    from kiosk.ui.testing import run_app

    engine = TimedEngine(answer_knocks=True)
    # A small panel: under software rendering on a busy machine a large window's redraw
    # rate, not the policy, would decide how often the mirror is drawn.
    async with run_app(engine, size=(800, 480)) as pilot:
        app = pilot.app
        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for_screen("checks")
        for event in (ev.Continue(), ev.Admitted(), ev.CallMediaStarted()):
            engine.inject(event)
        await pilot.wait_for_screen("in_call")

        async def drawn(seconds: float = 2.0) -> tuple[int, int]:
            mirror, remote = app.self_feed.frames, app.remote_feed.frames
            await asyncio.sleep(seconds)
            return app.self_feed.frames - mirror, app.remote_feed.frames - remote

        await asyncio.sleep(0.5)
        history = [("follows", *await drawn())]
        # The clinician's picture stops: the mirror goes on by itself.
        engine.remote_frozen = True
        await asyncio.sleep(0.5)
        history.append(("frozen", *await drawn()))
        # Showing ID the mirror is the large picture, at its own pace.
        engine.remote_frozen = False
        engine.inject(ev.ToggleShowId())
        await pilot.wait_for(lambda: engine.state.show_id, what="the card guide")
        await asyncio.sleep(0.5)
        history.append(("show_id", *await drawn()))

    (_, follow_mirror, follow_remote), (_, frozen_mirror, frozen_remote), shown = history
    assert follow_remote >= 4, history
    assert follow_mirror <= follow_remote + 1, history
    assert frozen_remote == 0 and frozen_mirror >= 8, history
    assert shown[1] >= shown[2] + 4, history


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
