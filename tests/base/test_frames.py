"""The one reduction every analyser starts from: the same picture as OpenCV's area average of
the grey frame, however it gets there, for every camera size."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from kiosk.base.frames import small_colour, small_grey
from scenes.render import moving


def reference(frame: np.ndarray, width: int) -> np.ndarray:
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    return np.asarray(
        cv2.resize(grey, (width, round(h * width / w)), interpolation=cv2.INTER_AREA), np.uint8
    )


@pytest.mark.parametrize(
    "size",
    [(1280, 720), (640, 480), (1920, 1080), (960, 540), (800, 600), (320, 240), (200, 100)],
)
def test_small_grey_is_the_area_average_of_the_grey_frame(size: tuple[int, int]) -> None:
    frame = moving(0.3, size=size)
    small = small_grey(frame)
    expected = reference(frame, 320)
    assert small.shape == expected.shape == (round(size[1] * 320 / size[0]), 320)
    assert small.dtype == np.uint8 and small.flags.c_contiguous
    # Halving twice rounds twice: at most one grey level from the single area average.
    assert int(np.abs(small.astype(np.int16) - expected).max()) <= 1


@pytest.mark.parametrize("size", [(1280, 720), (640, 480), (800, 600)])
def test_small_colour_is_the_area_average_of_the_frame(size: tuple[int, int]) -> None:
    frame = moving(0.3, size=size)
    expected = cv2.resize(
        frame, (320, round(size[1] * 320 / size[0])), interpolation=cv2.INTER_AREA
    )
    small = small_colour(frame)
    assert small.shape == expected.shape and small.dtype == np.uint8
    assert int(np.abs(small.astype(np.int16) - expected).max()) <= 1


def test_a_grey_frame_is_shrunk_the_same_way() -> None:
    frame = moving(0.3, size=(1280, 720))
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    assert np.array_equal(small_grey(grey), small_grey(frame))
    assert small_grey(grey, width=1280) is grey  # already that size: nothing to do


def test_an_empty_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a non-empty frame"):
        small_grey(np.zeros((0, 640, 3), np.uint8))
