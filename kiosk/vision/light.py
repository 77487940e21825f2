"""Is the patient lit well enough to be seen?

Too dark and too bright follow libwebrtc's legacy brightness detector
(`modules/video_processing/.../brightness_detection.cc`) on the grey histogram. Backlight
(a bright window behind a dark face) and uneven light (half the face in shadow) compare the
face region with its surroundings and its two halves.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.base.frames import GreyFrame
from kiosk.base.status import CheckStatus
from kiosk.vision.faces import FaceBox

BACKLIGHT_BRIGHT_SHARE = 0.20  # of the background at Y >= 230
BACKLIGHT_SUBJECT_MEAN = 90.0
UNEVEN_DIFFERENCE = 45.0  # grey levels between the two halves of the face


@dataclass(frozen=True)
class LightResult:
    level: CheckStatus
    advice: str
    mean: float
    median: float
    std: float
    p5: float
    p95: float
    dark_share: float  # pixels with Y < 20
    bright_share: float  # pixels with Y >= 230
    subject_mean: float | None  # the face, or the centre when no face is known
    background_bright_share: float | None
    side_difference: float | None  # left minus right half of the face


def _mean(region: GreyFrame) -> float:
    # OpenCV's mean reads the view in place; numpy's converts it to float64 first.
    return float(cv2.mean(region)[0])


def _percentile(cdf: np.ndarray, q: float) -> float:
    return float(np.searchsorted(cdf, q * cdf[-1]))


def is_too_dark(mean: float, median: float, std: float, p5: float, p95: float, dark: float) -> bool:
    return std < 55 and p5 < 50 and (median < 60 or mean < 80 or p95 < 130 or dark > 0.20)


def is_too_bright(
    mean: float, median: float, std: float, p5: float, p95: float, bright: float
) -> bool:
    if bright >= 0.40:
        return True
    return (
        std < 52
        and p95 > 200
        and median > 160
        and (median > 185 or mean > 185 or p5 > 140 or bright > 0.25)
    )


def _subject_box(grey: GreyFrame, face: FaceBox | None) -> tuple[int, int, int, int]:
    h, w = grey.shape
    if face is None:
        # Where a seated patient's face usually is: the middle of the picture.
        return int(w * 0.4), int(h * 0.3), int(w * 0.6), int(h * 0.75)
    return (
        max(0, int(face.x * w)),
        max(0, int(face.y * h)),
        min(w, int((face.x + face.w) * w)),
        min(h, int((face.y + face.h) * h)),
    )


def analyse_light(grey: GreyFrame, face: FaceBox | None = None) -> LightResult:
    """Judge the light in a small grey frame; `face` (the largest one) sharpens the judgement."""
    if grey.ndim != 2 or grey.size == 0:
        raise ValueError(f"expected a non-empty grey frame, got shape {grey.shape}")
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    total = float(hist.sum())
    cdf = np.cumsum(hist)
    levels = np.arange(256, dtype=np.float64)
    mean = float((hist * levels).sum() / total)
    std = float(np.sqrt((hist * (levels - mean) ** 2).sum() / total))
    median, p5, p95 = _percentile(cdf, 0.5), _percentile(cdf, 0.05), _percentile(cdf, 0.95)
    dark = float(hist[:20].sum() / total)
    bright = float(hist[230:].sum() / total)

    x0, y0, x1, y1 = _subject_box(grey, face)
    subject = grey[y0:y1, x0:x1]
    subject_mean = _mean(subject) if subject.size else None
    # The background's bright pixels are the frame's less the subject's: no masked copy.
    background = grey.size - subject.size
    bg_bright = (
        float(hist[230:].sum() - np.count_nonzero(subject >= 230)) / background
        if background
        else None
    )
    side: float | None = None
    if face is not None and subject.shape[1] >= 4:
        half = subject.shape[1] // 2
        # The middle band of the face: brows to mouth, no hair.
        band = subject[subject.shape[0] // 4 : subject.shape[0] * 3 // 4]
        if band.size:
            side = _mean(band[:, :half]) - _mean(band[:, half:])

    level, advice = CheckStatus.PASS, "light.ok"
    if is_too_dark(mean, median, std, p5, p95, dark):
        level, advice = CheckStatus.FAIL, "light.too_dark"
    elif is_too_bright(mean, median, std, p5, p95, bright):
        level, advice = CheckStatus.FAIL, "light.too_bright"
    elif (
        subject_mean is not None
        and bg_bright is not None
        and bg_bright >= BACKLIGHT_BRIGHT_SHARE
        and subject_mean < BACKLIGHT_SUBJECT_MEAN
    ):
        level, advice = CheckStatus.WARN, "light.backlit"
    elif side is not None and abs(side) >= UNEVEN_DIFFERENCE:
        level, advice = CheckStatus.WARN, "light.uneven"
    return LightResult(
        level=level,
        advice=advice,
        mean=mean,
        median=median,
        std=std,
        p5=p5,
        p95=p95,
        dark_share=dark,
        bright_share=bright,
        subject_mean=subject_mean,
        background_bright_share=bg_bright,
        side_difference=side,
    )
