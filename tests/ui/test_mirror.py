"""The patient's own picture: it fills its area, cropped around the face to the area's shape
(never black bars), large on the check screen; while an ID card is shown it is whole, with
the card outline where the guide looks for the card. Checked on the pixels drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from kiosk.session import events as ev
from kiosk.ui.video import bars, contain, cover
from scenes.render import FaceSpec, SceneSpec, render_scene
from tests.ui.scripted_engine import ScriptedEngine
from tests.ui.shots import Shots

CAMERA = (1280, 720)
# Left in the camera's picture, so right in the mirror.
FACE = FaceSpec(cx=0.22, cy=0.42, height=0.4)


def camera_picture() -> npt.NDArray[np.uint8]:
    bgr = render_scene(SceneSpec(faces=(FACE,)), size=CAMERA)
    return np.ascontiguousarray(bgr[:, :, ::-1])


def drawn(pilot: Any, image: npt.NDArray[np.uint8], view: Any) -> npt.NDArray[np.uint8]:
    """The pixels of the screenshot inside `view`'s box."""
    x, y = (round(v) for v in view.to_window(view.x, view.y))
    w, h = round(view.width), round(view.height)
    top = image.shape[0] - (y + h)
    return image[top : top + h, x : x + w]


def expected(
    picture: npt.NDArray[np.uint8], crop: tuple[float, float, float, float], size: tuple[int, int]
) -> npt.NDArray[np.uint8]:
    """`crop` (fractions, of the mirrored picture) scaled to `size` = (width, height)."""
    mirrored = picture[:, ::-1]
    h, w = mirrored.shape[:2]
    x0, y0, fw, fh = crop
    part = mirrored[round(y0 * h) : round((y0 + fh) * h), round(x0 * w) : round((x0 + fw) * w)]
    return np.asarray(cv2.resize(part, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def mean_difference(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


@pytest.mark.parametrize("size", [(800, 480), (1280, 800), (720, 1280)], ids=str)
async def test_the_mirror_fills_its_area_around_the_face_and_shows_a_card_whole(
    size: tuple[int, int], kivy_display: str, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    picture = camera_picture()
    engine = ScriptedEngine(answer_knocks=False, camera_picture=picture, camera_size=CAMERA)
    shots = Shots(None, screenshots_dir / f"{size[0]}x{size[1]}" / "mirror")
    async with run_app(engine, size=size) as pilot:
        shots.pilot = pilot
        for event in (ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber()):
            engine.inject(event)
        await pilot.wait_for_screen("checks")
        view = pilot.widget("self_view")
        # The face is found within a few looks, and the crop glides to it.
        face_x = 1.0 - FACE.cx
        await pilot.wait_for(
            lambda: abs(pilot.app.face_focus.focus[0] - face_x) < 0.03,
            timeout=15,
            what="the crop to follow the face",
            explain=lambda: f"focus {list(pilot.app.face_focus.focus)}",
        )
        await pilot.frames(3)
        image = await shots.take("checks_face")

        box = (view.x, view.y, view.width, view.height)
        assert list(view.picture) == pytest.approx(list(box)), "the picture must fill the area"
        share = view.width * view.height / (size[0] * size[1])
        assert share >= 0.2, f"the mirror takes {share:.0%} of the screen"
        crop = cover(box, CAMERA, tuple(view.focus))
        x0, _, fw, _ = crop
        assert x0 <= face_x <= x0 + fw, (crop, face_x)
        # As near the middle of the area as the picture allows.
        centred = min(max(face_x, fw / 2), 1 - fw / 2)
        assert abs(x0 + fw / 2 - centred) < 0.04, (crop, face_x)
        area = drawn(pilot, image, view)
        assert mean_difference(area, expected(picture, crop, area.shape[1::-1])) < 10
        assert area[:, :4].mean() > 20 and area[:, -4:].mean() > 20, "a bar at the side"
        assert area[:4].mean() > 20 and area[-4:].mean() > 20, "a bar at the top or bottom"

        # In the call, showing ID: the whole picture, and the guide where the card is sought.
        for event in (ev.Continue(), ev.Knocked(), ev.Admitted(), ev.CallMediaStarted()):
            engine.inject(event)
        await pilot.wait_for_screen("in_call")
        engine.inject(ev.ToggleShowId())
        view = pilot.widget("self_view")
        await pilot.wait_for(lambda: view.fill == "contain", what="the whole picture")
        await pilot.frames(3)
        image = await shots.take("card_guide")
        x, y, w, h = view.picture
        box = (view.x, view.y, view.width, view.height)
        assert (x, y, w, h) == pytest.approx(contain(box, CAMERA))
        assert w / h == pytest.approx(CAMERA[0] / CAMERA[1], rel=0.01)
        guide = pilot.widget("card_guide")
        assert guide.width == pytest.approx(0.65 * w)
        assert guide.height == pytest.approx(0.65 * w / 1.586)
        assert guide.center == pytest.approx([x + w / 2, y + h / 2])
        whole = drawn(pilot, image, type("Box", (), {
            "x": x, "y": y, "width": w, "height": h, "to_window": view.to_window,
        })())  # fmt: skip
        # The guide's outline is drawn over the picture; compare around it.
        reference = expected(picture, (0.0, 0.0, 1.0, 1.0), whole.shape[1::-1])
        border = np.ones(whole.shape[:2], bool)
        border[int(h * 0.12) : int(h * 0.88), int(w * 0.12) : int(w * 0.88)] = False
        assert mean_difference(whole[border], reference[border]) < 10
        # What the picture leaves of the area is the black backdrop, not the window behind it
        # (the guide's hint and the connection badge may cover a part).
        area = drawn(pilot, image, view).astype(np.int16)
        uncovered = np.ones(area.shape[:2], bool)
        left, top = round(x - view.x), round(view.top - (y + h))
        uncovered[max(0, top - 1) : top + round(h) + 1, max(0, left - 1) : left + round(w) + 1] = (
            False
        )
        assert uncovered.sum() > 0.02 * uncovered.size, "the whole picture leaves bars"
        black = (area[uncovered].max(axis=1) <= 2).mean()
        assert black >= 0.8, f"only {black:.0%} of the bars are the backdrop"

        # A new patient starts with the crop in the middle again.
        engine.inject(ev.HangUp())
        engine.inject(ev.Dismiss())
        await pilot.wait_for_screen("idle")
        assert list(pilot.app.face_focus.focus) == [0.5, 0.5]


@pytest.mark.parametrize(
    ("box", "picture"),
    [
        ((10.0, 20.0, 800.0, 400.0), (640.0, 480.0)),  # bars left and right
        ((10.0, 20.0, 400.0, 800.0), (640.0, 480.0)),  # bars below and above
        ((0.0, 0.0, 640.0, 480.0), (640.0, 480.0)),  # no bars
    ],
)
def test_the_backdrop_bars_and_the_picture_tile_the_area(
    box: tuple[float, float, float, float], picture: tuple[float, float]
) -> None:
    placed = contain(box, picture)
    a, b = bars(box, placed)
    parts = [a, b, placed]
    assert sum(w * h for _, _, w, h in parts) == pytest.approx(box[2] * box[3])
    for x, y, w, h in parts:
        assert w >= 0 and h >= 0
        assert box[0] - 1e-9 <= x and x + w <= box[0] + box[2] + 1e-9
        assert box[1] - 1e-9 <= y and y + h <= box[1] + box[3] + 1e-9
    # Side by side or one above the other: the bars never reach into the picture.
    for x, y, w, h in (a, b):
        if w and h:
            assert (
                x + w <= placed[0] + 1e-9
                or x >= placed[0] + placed[2] - 1e-9
                or (y + h <= placed[1] + 1e-9 or y >= placed[1] + placed[3] - 1e-9)
            )


def test_without_a_picture_the_backdrop_is_the_whole_area() -> None:
    box = (5.0, 6.0, 300.0, 200.0)
    a, b = bars(box, (5.0, 6.0, 0.0, 0.0))
    assert a == box and b[2] * b[3] == 0
    # A picture filling the area (the cropped mirror) leaves nothing to paint.
    assert all(w * h == 0 for _, _, w, h in bars(box, box))
