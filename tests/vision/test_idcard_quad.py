"""The outline search on drawn pictures, where the truth is exactly known."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.base.frames import BgrFrame
from kiosk.vision.card_quad import Focus, edge_map, find_quad, refine

W, H = 320, 180


def _picture(
    box: tuple[int, int, int, int], card: tuple[int, int, int], back: tuple[int, int, int]
) -> BgrFrame:
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = back
    x0, y0, x1, y1 = box
    cv2.rectangle(img, (x0, y0), (x1, y1), card, -1)
    return img


def _search(
    img: BgrFrame, focus: Focus | None = None, colour: bool = True
) -> tuple[npt.NDArray[np.float64], bool] | None:
    grey = np.asarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    edges = edge_map(grey)
    hit = find_quad(edges, img if colour else None, focus)
    return None if hit is None else (refine(edges, hit), hit.clipped)


def test_a_small_card_shape_counts_only_with_its_centre_in_the_focus() -> None:
    img = _picture((8, 8, 80, 53), (220, 225, 230), (120, 130, 140))  # aspect 1.6, top left
    truth = np.array([[8, 8], [80, 8], [80, 53], [8, 53]], float)
    found = _search(img)
    assert found is not None
    assert not found[1]
    assert np.abs(found[0] - truth).max() < 1.5
    centre = Focus(100, 40, 220, 140, min_area=0.5 * 208 * 131)
    assert _search(img, centre) is None
    big = _picture((60, 30, 260, 156), (220, 225, 230), (120, 130, 140))
    assert _search(big, Focus(150, 80, 170, 100, min_area=0.5 * 208 * 131)) is not None


def test_a_card_before_a_backdrop_of_its_own_grey_is_seen_by_the_colour_step() -> None:
    card, skin = (90, 200, 225), (250, 190, 182)  # BGR, the same grey level
    grey = cv2.cvtColor(np.array([[card, skin]], np.uint8), cv2.COLOR_BGR2GRAY)[0]
    assert abs(int(grey[0]) - int(grey[1])) <= 2
    img = _picture((70, 40, 250, 153), card, (60, 70, 80))
    # across half of each short side the card is before something of its own grey
    img[95:150, :70] = skin
    img[95:150, 251:] = skin
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), 0.8), dtype=np.uint8)  # a camera's softness
    truth = np.array([[70, 40], [250, 40], [250, 153], [70, 153]], float)
    found = _search(img)
    assert found is not None
    assert not found[1]
    # the short sides are half grey edge, half colour step: within two search pixels (8 at 720p)
    assert np.abs(found[0] - truth).max() < 2.0
    assert _search(img, colour=False) is None


def test_a_card_cut_by_the_border_is_clipped_and_a_whole_one_near_it_is_not() -> None:
    cut = _picture((-60, 30, 120, 143), (220, 225, 230), (110, 120, 130))
    found = _search(cut)
    assert found is not None
    assert found[1]
    near = _picture((6, 30, 186, 143), (220, 225, 230), (110, 120, 130))
    found = _search(near)
    assert found is not None
    assert not found[1]
    assert np.abs(found[0] - np.array([[6, 30], [186, 30], [186, 143], [6, 143]])).max() < 1.5
