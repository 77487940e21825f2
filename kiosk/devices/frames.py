"""Frame types and the few conversions consumers of the camera need."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

BgrImage = npt.NDArray[np.uint8]  # height × width × 3, BGR
RgbImage = npt.NDArray[np.uint8]  # height × width × 3, RGB
GreyImage = npt.NDArray[np.uint8]  # height × width
I420Image = npt.NDArray[np.uint8]  # (height × 3/2) × width, planar Y, U, V


@dataclass(frozen=True)
class CameraFrame:
    """One captured frame. `image` is read-only: every consumer shares it."""

    seq: int
    image: BgrImage
    captured_at: float  # time.monotonic() of the capture

    @property
    def size(self) -> tuple[int, int]:
        height, width = self.image.shape[:2]
        return width, height


def to_rgb(image: BgrImage) -> RgbImage:
    """A C-contiguous RGB copy, the layout a texture upload wants."""
    return np.ascontiguousarray(image[:, :, ::-1])


def small_grey(image: BgrImage, width: int = 320) -> GreyImage:
    """A grey copy at most `width` pixels wide, for analysers."""
    grey = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    height, current = grey.shape
    if current <= width:
        return grey
    new_height = max(1, round(height * width / current))
    small = cv2.resize(grey, (width, new_height), interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8)


def to_i420(image: BgrImage) -> I420Image:
    """Planar YUV 4:2:0, the encoder's own format, so it need not convert again.

    Width and height must be even (every camera mode and our synthetic sizes are)."""
    height, width = image.shape[:2]
    if width % 2 or height % 2:
        raise ValueError(f"I420 needs an even frame size (got {width}x{height})")
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
