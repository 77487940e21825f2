"""An ID-1 card held up to the camera: where it is, and one hint at a time until it is
readable.

Detection follows the usual OpenCV recipe (Canny → contours → a convex quadrilateral of the
right aspect) on a 640 px grey frame; sharpness and glare are measured on the card itself,
rectified from the full frame to 640 px wide (thresholds from the reference: Laplacian
variance >= 100, glare < 1.5 % of pixels with V >= 250 and S <= 40).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.vision.frames import BgrFrame

ID1_ASPECT = 85.60 / 53.98
DETECT_WIDTH = 640
RECTIFIED_WIDTH = 640
MIN_ASPECT, MAX_ASPECT = 1.45, 1.72
MIN_FILL, MAX_FILL = 0.50, 1.15  # card area over guide area
EDGE_MARGIN = 0.03  # of the frame width, corners to frame border
MAX_SKEW_DEG = 10.0
MIN_SHARPNESS = 100.0
MAX_GLARE = 0.015
HOLD_S = 0.7

Corners = npt.NDArray[np.float32]  # 4 × 2, TL, TR, BR, BL, in full-frame pixels


@dataclass(frozen=True)
class Guide:
    """The card outline drawn on the preview, as fractions of the frame."""

    x: float
    y: float
    w: float
    h: float

    @classmethod
    def centred(cls, frame_w: int, frame_h: int, width_share: float = 0.65) -> Guide:
        w = width_share
        h = w * frame_w / ID1_ASPECT / frame_h
        return cls((1 - w) / 2, (1 - h) / 2, w, h)


@dataclass(frozen=True)
class CardMeasure:
    corners: tuple[tuple[float, float], ...]  # TL, TR, BR, BL in frame pixels
    aspect: float
    fill: float  # card area over guide area
    edge_margin: float  # nearest corner to the frame border, fraction of the frame width
    skew_deg: float  # worst angle of a card edge from the frame axes
    sharpness: float  # variance of the Laplacian on the rectified card
    glare: float  # share of card pixels that are saturated and colourless


def _order(pts: npt.NDArray[np.float32]) -> Corners:
    s = pts.sum(axis=1)
    d = np.diff(pts, axis=1).ravel()
    return np.array(
        [pts[np.argmin(s)], pts[np.argmin(d)], pts[np.argmax(s)], pts[np.argmax(d)]],
        dtype=np.float32,
    )


def find_card_quad(frame: BgrFrame) -> Corners | None:
    """The corners of the largest card-shaped quadrilateral in `frame`, or None."""
    h, w = frame.shape[:2]
    scale = DETECT_WIDTH / w
    small = cv2.resize(
        frame, (DETECT_WIDTH, max(1, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    grey = cv2.GaussianBlur(grey, (5, 5), 0)
    edges = cv2.Canny(grey, 50, 150)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    min_area = 0.02 * grey.shape[0] * grey.shape[1]
    best: Corners | None = None
    best_area = 0.0
    for contour in contours:
        area = cv2.contourArea(contour)
        if area < min_area or area <= best_area:
            continue
        hull = cv2.convexHull(contour)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        # A contour that only touches the quad in places is clutter, not a card.
        if area / max(1.0, cv2.contourArea(approx)) < 0.85:
            continue
        quad = _order(approx.reshape(4, 2).astype(np.float32))
        if MIN_ASPECT <= _aspect(quad) <= MAX_ASPECT:
            best, best_area = quad, area
    if best is None:
        return None
    corners: Corners = (best / scale).astype(np.float32)
    return corners


def _aspect(q: Corners) -> float:
    top, bottom = np.linalg.norm(q[1] - q[0]), np.linalg.norm(q[2] - q[3])
    left, right = np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])
    long_side, short_side = (top + bottom) / 2, (left + right) / 2
    if short_side <= 0:
        return 0.0
    ratio = float(long_side / short_side)
    return ratio if ratio >= 1 else 1 / ratio


def _skew(q: Corners) -> float:
    worst = 0.0
    for a, b in ((0, 1), (3, 2), (0, 3), (1, 2)):
        dx, dy = float(q[b][0] - q[a][0]), float(q[b][1] - q[a][1])
        angle = math.degrees(math.atan2(dy, dx)) % 90.0
        worst = max(worst, min(angle, 90.0 - angle))
    return worst


def measure_card(frame: BgrFrame, quad: Corners, guide: Guide) -> CardMeasure:
    h, w = frame.shape[:2]
    out_w, out_h = RECTIFIED_WIDTH, round(RECTIFIED_WIDTH / ID1_ASPECT)
    dst = np.array([[0, 0], [out_w - 1, 0], [out_w - 1, out_h - 1], [0, out_h - 1]], np.float32)
    card = cv2.warpPerspective(frame, cv2.getPerspectiveTransform(quad, dst), (out_w, out_h))
    grey = cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)
    sharpness = float(cv2.Laplacian(grey, cv2.CV_16S).var())
    small = cv2.resize(card, (out_w // 2, out_h // 2), interpolation=cv2.INTER_NEAREST)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    glare = float(((hsv[:, :, 2] >= 250) & (hsv[:, :, 1] <= 40)).mean())
    area = float(cv2.contourArea(quad))
    margin = float(
        min(quad[:, 0].min(), quad[:, 1].min(), w - quad[:, 0].max(), h - quad[:, 1].max())
    )
    return CardMeasure(
        corners=tuple((float(x), float(y)) for x, y in quad),
        aspect=_aspect(quad),
        fill=area / (guide.w * w * guide.h * h),
        edge_margin=margin / w,
        skew_deg=_skew(quad),
        sharpness=sharpness,
        glare=glare,
    )


def hint_for(measure: CardMeasure | None) -> str:
    """The single most useful thing to tell the patient, in priority order."""
    if measure is None:
        return "card.none"
    if measure.fill < MIN_FILL:
        return "card.closer"
    if measure.fill > MAX_FILL:
        return "card.further"
    if measure.edge_margin < EDGE_MARGIN:
        return "card.inside_frame"
    if measure.skew_deg > MAX_SKEW_DEG:
        return "card.straighten"
    if measure.glare >= MAX_GLARE:
        return "card.glare"
    if measure.sharpness < MIN_SHARPNESS:
        return "card.hold_still"
    return "card.ok"


@dataclass(frozen=True)
class CardStatus:
    hint: str  # one of the hint keys, or "card.good" once all has held for HOLD_S
    measure: CardMeasure | None
    held_s: float  # how long every condition has held so far


class CardGuide:
    """Feeds frames with their timestamps; says "card.good" once the card has been right for
    `hold_s` seconds without a break."""

    def __init__(self, frame_size: tuple[int, int] = (1280, 720), hold_s: float = HOLD_S) -> None:
        self.guide = Guide.centred(*frame_size)
        self._hold_s = hold_s
        self._ok_since: float | None = None
        self._last_t: float | None = None

    def reset(self) -> None:
        self._ok_since = None
        self._last_t = None

    def update(self, frame: BgrFrame, t: float) -> CardStatus:
        if self._last_t is not None and t < self._last_t:
            raise ValueError(f"expected timestamps not going back, got {t} after {self._last_t}")
        self._last_t = t
        quad = find_card_quad(frame)
        measure = None if quad is None else measure_card(frame, quad, self.guide)
        hint = hint_for(measure)
        if hint != "card.ok":
            self._ok_since = None
            return CardStatus(hint, measure, 0.0)
        if self._ok_since is None:
            self._ok_since = t
        held = t - self._ok_since
        return CardStatus("card.good" if held >= self._hold_s else "card.ok", measure, held)
