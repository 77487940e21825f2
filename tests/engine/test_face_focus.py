"""The self view's face point: found off the caller's thread, handed over once, forgotten
between patients."""

from __future__ import annotations

import time

import cv2
import numpy as np

from kiosk.engine.face_focus import FaceFinder
from scenes.render import FaceSpec, SceneSpec, render_scene


def _rgb(cx: float) -> np.ndarray:
    bgr = render_scene(SceneSpec(seed=4, faces=(FaceSpec(cx=cx, cy=0.45),), noise=2))
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def _answer(finder: FaceFinder, frame: np.ndarray) -> tuple[float, float] | None:
    finder.offer(frame)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = finder.take()
        if found is not None:
            return found
        time.sleep(0.01)
    return None


def test_the_face_point_follows_the_face_and_is_given_once() -> None:
    finder = FaceFinder(every_s=0.0)
    try:
        left = _answer(finder, _rgb(0.3))
        assert left is not None and abs(left[0] - 0.3) < 0.05 and 0.45 < left[1] < 0.7
        assert finder.take() is None  # once
        right = _answer(finder, _rgb(0.7))
        assert right is not None and abs(right[0] - 0.7) < 0.05
    finally:
        finder.close()


def test_no_face_no_point_and_clear_forgets() -> None:
    finder = FaceFinder(every_s=0.0)
    try:
        empty = np.full((480, 640, 3), 128, np.uint8)
        finder.offer(empty)
        time.sleep(0.5)
        assert finder.take() is None
        finder.clear()
        assert finder.take() is None
    finally:
        finder.close()
