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
# The most a band of rows may make in one buffer: below the 128 kB from which every block gets
# its own mapping (kiosk.base.memory), so the buffer comes from the heap and stays in cache.
_BAND_BYTES = 96 * 1024


def small_grey(frame: BgrFrame | GreyFrame, width: int = SMALL_WIDTH) -> GreyFrame:
    """A grey copy `width` pixels wide, aspect kept, each pixel the mean of those it covers
    (INTER_AREA: no aliasing for the detectors).

    When the frame's size is a whole multiple of the result's (1280×720, 640×480, 1920×1080
    to 320 wide), it is converted and shrunk a band of rows at a time, halving while the
    factor is even, which OpenCV does fastest. Converting the whole 720p frame first made a
    900 kB grey frame of its own mapping (~225 page faults every time) and shrank it 4× in
    OpenCV's general path: 7.8 M instructions and 226 faults a frame against 3.8 M and none,
    and about three times the CPU time, on this machine.
    """
    return _reduced(frame, width, grey=True)


def small_colour(frame: BgrFrame, width: int = SMALL_WIDTH) -> BgrFrame:
    """A colour copy `width` pixels wide, shrunk as `small_grey` is (for the ID-card search,
    which also reads colour steps)."""
    return _reduced(frame, width, grey=False)


def _reduced(frame: BgrFrame | GreyFrame, width: int, grey: bool) -> GreyFrame | BgrFrame:
    h, w = frame.shape[:2]
    if w <= 0 or h <= 0:
        raise ValueError(f"expected a non-empty frame, got shape {frame.shape}")
    convert = grey and frame.ndim == 3
    factor = w // width
    if w % width or factor < 2 or h % factor:
        whole = np.asarray(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if convert else frame)
        if w != width:
            size = (width, max(1, round(h * width / w)))
            whole = np.asarray(cv2.resize(whole, size, interpolation=cv2.INTER_AREA))
        return np.asarray(whole, dtype=np.uint8)
    colour = not grey and frame.ndim == 3
    out = np.empty((h // factor, width, 3) if colour else (h // factor, width), np.uint8)
    # The largest buffer a band makes, per row of the frame: its grey copy, or its colour
    # copy halved (half as wide, half as many rows, three channels). Fewer, larger bands
    # call OpenCV fewer times: a fifth less time for the colour copy than at 24 rows.
    row_bytes = 3 * w // 4 if colour else w
    rows = factor * max(1, _BAND_BYTES // (row_bytes * factor))
    for top in range(0, h, rows):
        band = frame[top : top + rows]
        part = cv2.cvtColor(band, cv2.COLOR_BGR2GRAY) if convert else band
        left = factor
        while left > 2 and left % 2 == 0:
            size = (part.shape[1] // 2, part.shape[0] // 2)
            part = cv2.resize(part, size, interpolation=cv2.INTER_AREA)
            left //= 2
        done = band.shape[0] // factor
        cv2.resize(
            part,
            (width, done),
            dst=out[top // factor : top // factor + done],
            interpolation=cv2.INTER_AREA,
        )
    return out
