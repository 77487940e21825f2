"""Faces on every frame for a fraction of the cost of searching the whole picture each time.

A Haar cascade spends most of its time on the windows over a face, at every scale smaller
than the face, because parts of a face look much like a face. A patient at a kiosk moves
little from one frame to the next, so once a face is known the next search only needs its
neighbourhood, shrunk until the face is just above the cascade's own 20-pixel window, and
the few scales around its last size: the cascade still confirms the face on every frame,
for less than a tenth of the work. Every `recount_every`-th frame the rest of the picture is
searched too, with the confirmed faces painted flat so that search costs what an empty
room costs; a second person stepping into view is counted within a second.
Whenever a known face is not confirmed, the whole picture is searched at once, so a face
that moved is never reported as gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.base.frames import GreyFrame
from kiosk.vision.faces import WINDOW, FaceBox, FaceDetector

# Of the face's size, searched on every side of its last box. Most of a search's time goes
# to windows over the face itself; the fewer of them around it, the cheaper. A third of the
# face is more than a patient moves between two analysed frames (five a second); one who
# moves further is searched for in the whole picture at once.
MARGIN = 0.3
FOLLOW_SIZE = 1.2 * WINDOW  # the face's last size, in pixels of the shrunk neighbourhood
SIZE_RANGE = (0.8, 1.35)  # sizes searched, relative to the face's last size
# Steps between the sizes searched: four sizes in that range; every swaying, leaning face
# of the generated sequences (15, 5 and 2.5 analyses a second) was still confirmed.
FOLLOW_STEP = 1.15
RIM = 0.1  # of the face's size, painted over with it before a recount
SAME_FACE = 0.3  # intersection over union above which two boxes are one face


@dataclass(frozen=True)
class FaceSearch:
    faces: tuple[FaceBox, ...]  # largest first
    recounted: bool  # the whole picture was searched for this answer


def overlap(a: FaceBox, b: FaceBox) -> float:
    """Intersection over union of two boxes."""
    w = min(a.x + a.w, b.x + b.w) - max(a.x, b.x)
    h = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a.area + b.area - inter)


class FaceTracker:
    """Not thread-safe: one tracker per consumer thread."""

    def __init__(self, detector: FaceDetector | None = None, recount_every: int = 4) -> None:
        if recount_every < 1:
            raise ValueError(f"recount_every must be >= 1, got {recount_every}")
        self._detector = detector or FaceDetector()
        self._recount_every = recount_every
        self._since_recount = 0
        self._faces: tuple[FaceBox, ...] = ()

    def reset(self) -> None:
        """Forget the faces seen (a new session must not inherit the previous one's)."""
        self._since_recount = 0
        self._faces = ()

    def find(self, grey: GreyFrame) -> FaceSearch:
        if self._faces:
            followed = [self._follow(grey, face) for face in self._faces]
            confirmed = [face for face in followed if face is not None]
            if len(confirmed) == len(followed):
                self._since_recount += 1
                self._faces = _distinct(confirmed)
                if self._since_recount < self._recount_every:
                    return FaceSearch(self._faces, recounted=False)
                # Anyone else in view: the faces just confirmed are painted flat first, so
                # the search does not spend its time on windows over them.
                others = self._detector.detect(_painted_over(grey, self._faces))
                return self._recounted(self._faces + others)
        return self._recounted(self._detector.detect(grey))

    def _recounted(self, faces: tuple[FaceBox, ...]) -> FaceSearch:
        self._since_recount = 0
        self._faces = _distinct(faces)
        return FaceSearch(self._faces, recounted=True)

    def _follow(self, grey: GreyFrame, face: FaceBox) -> FaceBox | None:
        """The face near `face`'s last place and size in `grey`, or None if it is not there."""
        h, w = grey.shape[:2]
        size = face.h * h
        x0, y0, x1, y1 = _around(face, MARGIN, w, h)
        shrink = min(1.0, FOLLOW_SIZE / size)
        region = grey[y0:y1, x0:x1]
        if shrink < 1.0:
            out = (max(1, round(region.shape[1] * shrink)), max(1, round(region.shape[0] * shrink)))
            region = np.asarray(cv2.resize(region, out, interpolation=cv2.INTER_AREA))
        seen = size * shrink
        found = self._detector.detect_boxes(
            region,
            min_size=max(WINDOW, int(seen * SIZE_RANGE[0])),
            max_size=int(seen * SIZE_RANGE[1]) + 1,
            scale_factor=FOLLOW_STEP,
        )
        if not found:
            return None
        cx, cy = (face.cx * w - x0) * shrink, (face.cy * h - y0) * shrink
        bx, by, bw, bh = min(
            found, key=lambda b: (b[0] + b[2] / 2 - cx) ** 2 + (b[1] + b[3] / 2 - cy) ** 2
        )
        return FaceBox(
            (x0 + bx / shrink) / w, (y0 + by / shrink) / h, bw / shrink / w, bh / shrink / h
        )


def _around(face: FaceBox, margin: float, w: int, h: int) -> tuple[int, int, int, int]:
    """Pixel bounds (x0, y0, x1, y1) of `face` grown by `margin` of its size on every side,
    within a w × h frame."""
    return (
        max(0, int((face.x - margin * face.w) * w)),
        max(0, int((face.y - margin * face.h) * h)),
        min(w, int((face.x + face.w * (1 + margin)) * w) + 1),
        min(h, int((face.y + face.h * (1 + margin)) * h) + 1),
    )


def _painted_over(grey: GreyFrame, faces: tuple[FaceBox, ...]) -> GreyFrame:
    """A copy of `grey` with each face, and a rim around it, filled with its mean grey."""
    h, w = grey.shape[:2]
    painted = grey.copy()
    for face in faces:
        x0, y0, x1, y1 = _around(face, RIM, w, h)
        region = painted[y0:y1, x0:x1]
        if region.size:
            region[...] = int(region.mean())
    return painted


def _distinct(faces: Iterable[FaceBox]) -> tuple[FaceBox, ...]:
    """Largest first, with two boxes that overlap much counted once (two followed faces
    that drifted into each other's neighbourhood)."""
    kept: list[FaceBox] = []
    for face in sorted(faces, key=lambda b: b.area, reverse=True):
        if all(overlap(face, k) < SAME_FACE for k in kept):
            kept.append(face)
    return tuple(kept)
