"""Frontal faces on a small grey frame, with OpenCV's bundled Haar cascade.

The cascade ships inside the opencv-python wheel (`cv2.data`), so nothing is downloaded at
run time. OpenCV 5 wheels dropped both the cascade files and `CascadeClassifier`; the
constructor says so plainly instead of failing later.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2

from kiosk.base.frames import GreyFrame

CASCADE = "haarcascade_frontalface_alt2.xml"
WINDOW = 20  # the cascade's own window: the smallest face it can see, in pixels

Box = tuple[int, int, int, int]  # x, y, width, height in pixels


@dataclass(frozen=True)
class FaceBox:
    """A face as fractions of the frame (x, y of the top-left corner, width, height)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def area(self) -> float:
        return self.w * self.h


class FaceDetector:
    """Finds faces at least `min_fraction` of the frame height tall.

    Tuned for a ~320 px wide grey frame: scale step 1.2 and a floor of a seventh of the
    height; a patient at a kiosk fills far more than that. One search of the whole frame
    costs 6-8 ms on one core here, most of it on the windows over and around the face.
    """

    def __init__(self, min_fraction: float = 0.14, scale_factor: float = 1.2) -> None:
        if not hasattr(cv2, "CascadeClassifier") or not hasattr(cv2, "data"):
            raise RuntimeError(
                f"expected OpenCV 4.x with CascadeClassifier and cv2.data (opencv-python<5), "
                f"found OpenCV {cv2.__version__} without them"
            )
        path = Path(cv2.data.haarcascades) / CASCADE  # type: ignore[attr-defined]
        if not path.is_file():
            raise RuntimeError(f"expected the Haar cascade {CASCADE} in cv2.data, not found")
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV could not load the Haar cascade {CASCADE}")
        self._min_fraction = min_fraction
        self._scale_factor = scale_factor

    def detect(self, grey: GreyFrame) -> tuple[FaceBox, ...]:
        """Faces in `grey`, largest first."""
        h, w = grey.shape[:2]
        found = self.detect_boxes(grey, min_size=max(WINDOW, int(h * self._min_fraction)))
        boxes = [FaceBox(x / w, y / h, bw / w, bh / h) for (x, y, bw, bh) in found]
        return tuple(sorted(boxes, key=lambda b: b.area, reverse=True))

    def detect_boxes(
        self, grey: GreyFrame, min_size: int, max_size: int = 0, scale_factor: float = 0.0
    ) -> list[Box]:
        """Faces as pixel boxes between `min_size` and `max_size` (0: no limit) pixels tall,
        searched in steps of `scale_factor` (0: the detector's own)."""
        if grey.shape[0] < min_size or grey.shape[1] < min_size:
            return []
        found = self._cascade.detectMultiScale(
            grey,
            scaleFactor=scale_factor or self._scale_factor,
            minNeighbors=3,
            minSize=(min_size, min_size),
            maxSize=(max_size, max_size),
        )
        return [(int(x), int(y), int(bw), int(bh)) for (x, y, bw, bh) in found]
