"""How many times each camera frame is converted (greyed, shrunk) by whoever looks at it.

`counting_conversions(counts)` wraps OpenCV's converters and adds up, per camera frame, the pixels
of that frame they read, in frames: a converter that reads the whole frame once (or band by
band) counts 1, one that reads it twice counts 2. The frames are those a `CountedCamera`
made, each in a fresh buffer as a real camera delivers it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import cv2
import numpy as np

from kiosk.base.frames import BgrFrame
from kiosk.devices.synthetic import Renderer, SyntheticCamera

CONVERTERS = ("cvtColor", "resize")


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class Conversions:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id of a camera frame's buffer -> the frame (kept, so no id is reused), frames read
        self._frames: dict[int, tuple[BgrFrame, float]] = {}

    def add_frame(self, frame: BgrFrame) -> None:
        with self._lock:
            self._frames[id(frame)] = (frame, 0.0)

    def note(self, source: object) -> None:
        if not isinstance(source, np.ndarray):
            return
        root = _root(source)
        with self._lock:
            if id(root) in self._frames:
                kept, read = self._frames[id(root)]
                self._frames[id(root)] = (kept, read + source.size / root.size)

    def per_frame(self) -> list[float]:
        """Frames read per camera frame converted at all, rounded to a hundredth."""
        with self._lock:
            return [round(read, 2) for _, read in self._frames.values() if read > 0]


class CountedCamera(SyntheticCamera):
    """`render`'s pictures, each in a fresh buffer whose conversions `counts` adds up."""

    def __init__(
        self, width: int, height: int, fps: float, render: Renderer, counts: Conversions
    ) -> None:
        def fresh(t: float) -> BgrFrame:
            frame = np.array(render(t), copy=True)
            counts.add_frame(frame)
            return frame

        super().__init__(width, height, fps, fresh)


@contextlib.contextmanager
def counting_conversions(counts: Conversions) -> Iterator[Conversions]:
    """OpenCV's converters report to `counts` until the block ends."""
    originals: dict[str, Callable[..., Any]] = {name: getattr(cv2, name) for name in CONVERTERS}

    def counted(original: Callable[..., Any]) -> Callable[..., Any]:
        def convert(source: object, *args: object, **kwargs: object) -> Any:
            counts.note(source)
            return original(source, *args, **kwargs)

        return convert

    for name, original in originals.items():
        setattr(cv2, name, counted(original))
    try:
        yield counts
    finally:
        for name, original in originals.items():
            setattr(cv2, name, original)
