"""A captured camera frame, and the conversions consumers of the camera need."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.base.frames import BgrFrame, GreyFrame, I420Frame, RgbFrame, small_grey


@dataclass(frozen=True)
class CameraFrame:
    """One captured frame. `image` is read-only: every consumer shares it, and its small grey
    copy too (`small_grey`)."""

    seq: int
    image: BgrFrame
    captured_at: float  # time.monotonic() of the capture
    # The small grey copy once made; a list so the frozen frame can hold it.
    _small: list[GreyFrame] = field(default_factory=list, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.image.shape[:2]
        return width, height

    def small_grey(self) -> GreyFrame:
        """The frame shrunk and greyed for the analysers (`kiosk.base.frames.small_grey`),
        made by the first consumer that asks, on its own thread, and shared by the rest."""
        with self._lock:
            if not self._small:
                small = small_grey(self.image)
                small.flags.writeable = False
                self._small.append(small)
            return self._small[0]


def to_rgb(image: BgrFrame) -> RgbFrame:
    """A C-contiguous RGB copy, the layout a texture upload wants."""
    return np.ascontiguousarray(image[:, :, ::-1])


def to_i420(image: BgrFrame) -> I420Frame:
    """Planar YUV 4:2:0, the encoder's own format, so it need not convert again.

    Width and height must be even (every camera mode and our synthetic sizes are)."""
    height, width = image.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"I420 needs an even frame size (got {width}x{height})")
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
