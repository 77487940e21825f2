"""The screens that redraw with every video frame fill each pixel of the window about once.

On a terminal without a GPU driver every redraw goes through a software renderer, 15-20
times a second, and its cost follows the pixels filled, seen or not. So on the check, waiting,
call and reconnecting screens nothing invisible is filled (a widget at opacity 0, a
transparent button background), no stencil pass covers the window, and all quads together
stay near one window's area: the picture, its bars, the mirror, the buttons and text."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.session import events as ev
from tests.ui.overdraw import Quad, quads
from tests.ui.scripted_engine import ScriptedEngine

# Windows' worth of pixels a redraw may fill. The call's screen fills about 1.1 (the picture
# and its bars once, the buttons, text and mirror over them); showing ID, the large mirror
# covers most of the clinician's picture, which is still drawn under it (about 1.7).
MOST_WINDOWS = 1.8
# A quad this small (a badge's corner, a hidden label's padding) costs nothing worth a rule.
NEGLIGIBLE_PX = 1500


def problems(found: list[Quad], window_px: float) -> list[str]:
    wasted = [
        str(quad)
        for quad in found
        if quad.area > NEGLIGIBLE_PX and (quad.stencil or quad.alpha < 0.01)
    ]
    filled = sum(quad.area for quad in found) / window_px
    if filled > MOST_WINDOWS:
        wasted.append(f"{filled:.2f} windows filled in all (most {MOST_WINDOWS})")
    return wasted


@pytest.mark.parametrize("size", [(1280, 800), (800, 480)], ids=str)
async def test_video_screens_fill_each_pixel_about_once(
    size: tuple[int, int], kivy_display: str
) -> None:
    from kivy.core.window import Window

    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(remote_size=(640, 480))
    window_px = float(size[0] * size[1])
    seen: dict[str, list[str]] = {}
    filled: dict[str, float] = {}

    async def look(name: str, pilot: Any) -> None:
        await pilot.settled(pictures=True)
        found = quads(Window)
        seen[name] = problems(found, window_px)
        filled[name] = round(sum(quad.area for quad in found) / window_px, 2)

    async with run_app(engine, size=size) as pilot:
        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for_screen("checks")
        await pilot.wait_for(
            lambda: pilot.app.state.checks is not None and pilot.app.state.checks.camera_ok,
            what="the camera check",
        )
        await look("checks", pilot)
        for event in (ev.Continue(), ev.Knocked()):
            engine.inject(event)
        await pilot.wait_for_screen("waiting")
        await look("waiting", pilot)
        for event in (ev.Admitted(), ev.CallMediaStarted()):
            engine.inject(event)
        await pilot.wait_for_screen("in_call")
        await pilot.wait_for(lambda: pilot.app.remote_feed.texture is not None, what="a picture")
        await look("in_call", pilot)
        engine.inject(ev.ToggleShowId())
        await pilot.wait_for(lambda: pilot.widget("self_view").fill == "contain", what="ID")
        await look("in_call_show_id", pilot)
        engine.inject(ev.ToggleShowId())
        for event in (ev.ParticipantLost(), ev.StillTrying()):
            engine.inject(event)
        await pilot.wait_for_screen("reconnecting")
        await look("reconnecting", pilot)

    assert list(seen) == ["checks", "waiting", "in_call", "in_call_show_id", "reconnecting"]
    assert {name: found for name, found in seen.items() if found} == {}, filled
