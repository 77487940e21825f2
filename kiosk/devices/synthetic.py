"""A generated camera picture for terminals without a camera, and for tests."""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from kiosk.base.frames import BgrFrame

Renderer = Callable[[float], BgrFrame]


def moving_scene(width: int = 640, height: int = 480) -> Renderer:
    """A lit background with a face-sized disc moving on a circle and a clock bar.

    Motion and texture keep a video encoder honest (a still picture costs nothing to send)."""
    ys, xs = np.mgrid[0:height, 0:width]
    gradient = ((xs * 96 // max(1, width - 1)) + (ys * 64 // max(1, height - 1)) + 60).astype(
        np.uint8
    )
    background = np.dstack([gradient, gradient + 20, gradient + 40]).astype(np.uint8)

    def render(t: float) -> BgrFrame:
        image = background.copy()
        cx = int(width / 2 + width / 4 * math.cos(t))
        cy = int(height / 2 + height / 4 * math.sin(t))
        radius = max(4, min(width, height) // 6)
        cv2.circle(image, (cx, cy), radius, (90, 140, 220), -1)
        bar = int((t % 1.0) * width)
        cv2.rectangle(image, (0, height - 12), (bar, height - 1), (250, 250, 250), -1)
        return image

    return render


class SyntheticCamera:
    """A frame source that renders `render(t)`; it never fails and never blocks."""

    name = "synthetic"

    def __init__(
        self,
        width: int = 640,
        height: int = 480,
        fps: float = 15.0,
        render: Renderer | None = None,
    ) -> None:
        self.width = width
        self.height = height
        self.fps = fps
        self._render = render or moving_scene(width, height)
        self._t0 = 0.0
        self._frames = 0

    def open(self) -> None:
        self._frames = 0

    def read(self) -> BgrFrame | None:
        # Scene time follows the frame count, so the picture is the same whatever the load.
        image = self._render(self._frames / self.fps)
        self._frames += 1
        return image

    def close(self) -> None:
        pass
