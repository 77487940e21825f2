"""The picture types every package passes around, and the one reduction analysers start from.

Pictures are numpy arrays as OpenCV has them: uint8, rows first. A camera frame is shrunk and
greyed once (`small_grey`); the camera check, light, framing and faces all read that copy
(`kiosk.devices.frames.CameraFrame.small_grey` keeps it with the frame).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

BgrFrame = npt.NDArray[np.uint8]  # height × width × 3, BGR, as cameras and OpenCV have it
RgbFrame = npt.NDArray[np.uint8]  # height × width × 3, RGB, C-contiguous, as textures want it
GreyFrame = npt.NDArray[np.uint8]  # height × width
I420Frame = npt.NDArray[np.uint8]  # (height × 3/2) × width, planar Y, U, V

SMALL_WIDTH = 320  # what the analysers are tuned for
# Grey rows converted at a time: below the 128 kB from which every block gets its own mapping
# (kiosk.base.memory), so the band is reused from the heap and stays in cache.
_BAND_BYTES = 96 * 1024


def small_grey(frame: BgrFrame | GreyFrame, width: int = SMALL_WIDTH) -> GreyFrame:
    """A grey copy `width` pixels wide, aspect kept, each pixel the mean of those it covers
    (INTER_AREA: no aliasing for the detectors).

    When the frame's size is a whole multiple of the result's (1280×720, 640×480, 1920×1080
    to 320 wide), it is converted and shrunk a band of rows at a time, halving while the
    factor is even, which OpenCV does fastest. Converting the whole 720p frame first gave a
    900 kB grey frame of its own mapping, ~225 page faults every time: 0.86 ms of CPU for
    the reduction against 0.47 ms in bands, on this 2-core machine (half of it in the kernel).
    """
    h, w = frame.shape[:2]
    if w <= 0 or h <= 0:
        raise ValueError(f"expected a non-empty frame, got shape {frame.shape}")
    colour = frame.ndim == 3
    factor = w // width
    if w % width or factor < 2 or h % factor:
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if colour else frame
        if w != width:
            size = (width, max(1, round(h * width / w)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        return np.asarray(grey, dtype=np.uint8)
    out = np.empty((h // factor, width), np.uint8)
    rows = factor * max(1, _BAND_BYTES // (w * factor))
    for top in range(0, h, rows):
        band = frame[top : top + rows]
        grey = cv2.cvtColor(band, cv2.COLOR_BGR2GRAY) if colour else band
        left = factor
        while left > 2 and left % 2 == 0:
            size = (grey.shape[1] // 2, grey.shape[0] // 2)
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
            left //= 2
        done = band.shape[0] // factor
        cv2.resize(
            grey,
            (width, done),
            dst=out[top // factor : top // factor + done],
            interpolation=cv2.INTER_AREA,
        )
    return out
