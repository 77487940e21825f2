"""Frame types and the one downscale every analyser starts from."""

from __future__ import annotations

import enum

import cv2
import numpy as np
import numpy.typing as npt

BgrFrame = npt.NDArray[np.uint8]  # height × width × 3, BGR
GreyFrame = npt.NDArray[np.uint8]  # height × width


class Level(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


def small_grey(frame: BgrFrame | GreyFrame, width: int = 320) -> GreyFrame:
    """A grey copy about `width` pixels wide, aspect kept.

    Shrinking the colour frame first and converting after is several times cheaper at 720p
    than converting the full frame; INTER_AREA keeps it free of aliasing for the detectors.
    """
    h, w = frame.shape[:2]
    if w <= 0 or h <= 0:
        raise ValueError(f"expected a non-empty frame, got shape {frame.shape}")
    height = max(1, round(h * width / w))
    small = (
        frame if w == width else cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    )
    if small.ndim == 3:
        return np.asarray(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return np.asarray(small, dtype=np.uint8)


def ensure_bgr(frame: object) -> BgrFrame:
    """Check that `frame` is an H×W×3 uint8 array and return it typed."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise TypeError(f"expected a uint8 numpy frame, got {type(frame).__name__}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 BGR frame, got shape {frame.shape}")
    return frame
