"""Generated ID-card scenes with the hint each one should get, for tests and the benchmark.

The expected hint comes from the scene's parameters (where the card's corners land, how big
the glare spot is, how much blur), never from the detector. Scenes whose true value lies
within a small band around a threshold are not generated: there the right answer depends on
a pixel or two and says nothing about the detector.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.vision import idcard
from scenes.render import (
    CardSpec,
    FaceSpec,
    SceneSpec,
    card_corners,
    card_glare_share,
)

SIZE = (1280, 720)
SHARP_BLUR, BLURRED_BLUR = 0.6, 2.5  # Gaussian sigma at 720p: at most sharp, at least blurred
MIN_VISIBLE = 0.55  # of a clipped card's area in view, so that enough of it shows
BORDER_BAND_PX = 8.0
FILL_BAND = 0.07  # relative
MARGIN_BAND = 0.006  # of the frame width
SKEW_BAND = 2.0  # degrees
GLARE_BAND = (0.010, 0.022)
HINTS = (
    "card.none",
    "card.ok",
    "card.closer",
    "card.further",
    "card.inside_frame",
    "card.straighten",
    "card.glare",
    "card.hold_still",
)


@dataclass(frozen=True)
class CardScene:
    spec: SceneSpec
    expected: str
    family: str  # the kind of scene it was drawn as


def _visible_share(quad: npt.NDArray[np.float32], size: tuple[int, int]) -> tuple[float, int]:
    """The share of the card inside the frame, and how many frame sides cut it."""
    w, h = size
    frame = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    inside, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    area = float(cv2.contourArea(quad.astype(np.float32)))
    cut = int(quad[:, 0].min() < 0) + int(quad[:, 0].max() > w - 1)
    cut += int(quad[:, 1].min() < 0) + int(quad[:, 1].max() > h - 1)
    return float(inside) / area, cut


def expected_hint(spec: SceneSpec, size: tuple[int, int] = SIZE) -> str | None:
    """The hint the scene calls for, from its parameters; None when it sits on a threshold."""
    card = spec.card
    if card is None:
        return "card.none"
    quad = card_corners(card, size)
    share, cut = _visible_share(quad, size)
    w, h = size
    nearest = float(
        min(quad[:, 0].min(), quad[:, 1].min(), w - 1 - quad[:, 0].max(), h - 1 - quad[:, 1].max())
    )
    if abs(nearest) < BORDER_BAND_PX:  # cut off or not is a matter of a pixel or two
        return None
    if cut:
        return "card.inside_frame" if cut == 1 and share >= MIN_VISIBLE else None
    guide = idcard.Guide.centred(*size)
    fill = float(cv2.contourArea(quad)) / (guide.w * w * guide.h * h)
    margin = (
        float(
            min(
                quad[:, 0].min(),
                quad[:, 1].min(),
                w - 1 - quad[:, 0].max(),
                h - 1 - quad[:, 1].max(),
            )
        )
        / w
    )
    skew = idcard.skew_deg(quad)
    glare = card_glare_share(card, spec.seed)
    blurred = spec.blur >= BLURRED_BLUR
    rules: list[tuple[str, bool, bool]] = [  # hint, fires, too near its threshold to tell
        ("card.closer", fill < idcard.MIN_FILL, abs(fill / idcard.MIN_FILL - 1) < FILL_BAND),
        ("card.further", fill > idcard.MAX_FILL, abs(fill / idcard.MAX_FILL - 1) < FILL_BAND),
        (
            "card.inside_frame",
            margin < idcard.EDGE_MARGIN,
            abs(margin - idcard.EDGE_MARGIN) < MARGIN_BAND,
        ),
        (
            "card.straighten",
            skew > idcard.MAX_SKEW_DEG,
            abs(skew - idcard.MAX_SKEW_DEG) < SKEW_BAND,
        ),
        ("card.glare", glare >= idcard.MAX_GLARE, GLARE_BAND[0] < glare < GLARE_BAND[1]),
        ("card.hold_still", blurred, SHARP_BLUR < spec.blur < BLURRED_BLUR),
    ]
    for hint, fires, unsure in rules:
        if unsure:
            return None
        if fires:
            return hint
    return "card.ok"


def _family_card(family: str, rng: np.random.Generator) -> tuple[CardSpec | None, float]:
    """A card drawn as `family`, and the blur for the scene."""

    def u(lo: float, hi: float) -> float:
        return float(rng.uniform(lo, hi))

    base = {
        "cx": 0.5 + u(-0.04, 0.04),
        "cy": 0.5 + u(-0.04, 0.04),
        "width": u(0.5, 0.64),
        "roll_deg": u(-6, 6),
        "yaw_deg": u(-10, 10),
        "pitch_deg": u(-8, 8),
    }
    blur = u(0.0, SHARP_BLUR)
    if family == "card.none":
        return None, blur
    if family == "card.closer":
        base["width"] = u(0.22, 0.43)
    elif family == "card.further":
        base["width"] = u(0.72, 0.78)
        base["cy"], base["roll_deg"] = 0.5 + u(-0.01, 0.01), u(-2, 2)
    elif family == "card.inside_frame":
        if rng.random() < 0.5:  # near the border
            base["width"] = u(0.5, 0.6)
            half = base["width"] / 2
            base["cx"] = half + u(0.0, 0.02) if rng.random() < 0.5 else 1 - half - u(0.0, 0.02)
        else:  # partly out of the frame, past a side or the bottom
            off = u(0.12, 0.4) * base["width"]
            side = int(rng.integers(0, 3))
            if side == 0:
                base["cx"] = base["width"] / 2 - off
            elif side == 1:
                base["cx"] = 1 - base["width"] / 2 + off
            else:
                tall = base["width"] * SIZE[0] / idcard.ID1_ASPECT / SIZE[1]
                base["cy"] = 1 - tall / 2 + u(0.12, 0.4) * tall
            base["roll_deg"] = u(-3, 3)
    elif family == "card.straighten":
        base["width"] = u(0.45, 0.56)
        base["roll_deg"] = math.copysign(u(13, 22), u(-1, 1))
    elif family == "card.hold_still":
        blur = u(BLURRED_BLUR + 0.1, 4.0)
    glare = u(0.1, 0.16) if family == "card.glare" else 0.0
    glare_at = (u(0.35, 0.7), u(0.35, 0.65))
    return CardSpec(glare=glare, glare_at=glare_at, **base), blur


def card_scene_set(count: int = 240, seed: int = 11) -> list[CardScene]:
    """`count` scenes cycling over every hint, half with a face and clutter behind the card."""
    rng = np.random.default_rng(seed)
    out: list[CardScene] = []
    i = 0
    while len(out) < count:
        family = HINTS[len(out) % len(HINTS)]
        card, blur = _family_card(family, rng)
        busy = len(out) % 2 == 0
        faces = (
            (
                FaceSpec(
                    cx=0.5 + float(rng.uniform(-0.12, 0.12)),
                    cy=float(rng.uniform(0.35, 0.5)),
                    height=float(rng.uniform(0.35, 0.6)),
                ),
            )
            if busy or family == "card.none"
            else ()
        )
        spec = SceneSpec(
            seed=seed * 1000 + i,
            faces=faces,
            card=card,
            blur=blur,
            noise=float(rng.uniform(1.0, 3.0)),
            clutter=int(rng.integers(2, 7)) if busy else 0,
        )
        i += 1
        expected = expected_hint(spec)
        if expected is None:
            continue
        out.append(CardScene(spec, expected, family))
    return out
