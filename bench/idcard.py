"""ID-1 card guide: time per 1280×720 frame, and how often the hint is the expected one."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit, median, time_ms

from kiosk.vision.idcard import CardGuide
from kiosk.vision.scenes import CardSpec, SceneSpec, render_scene

# (expected hint, card) families; positions and small angles vary per scene.
FAMILIES: list[tuple[str, dict[str, float]]] = [
    ("card.ok", {"width": 0.55}),
    ("card.closer", {"width": 0.3}),
    ("card.further", {"width": 0.78}),
    ("card.straighten", {"width": 0.55, "roll_deg": 16}),
    ("card.glare", {"width": 0.55, "glare": 0.12}),
]


def scenes(count: int, seed: int = 3) -> list[tuple[str, SceneSpec]]:
    rng = np.random.default_rng(seed)
    out: list[tuple[str, SceneSpec]] = [("card.none", SceneSpec(seed=seed, faces=()))]
    for i in range(count - 1):
        hint, base = FAMILIES[i % len(FAMILIES)]
        card = CardSpec(
            cx=0.5 + float(rng.uniform(-0.03, 0.03)),
            cy=0.5 + float(rng.uniform(-0.03, 0.03)),
            width=base["width"] + float(rng.uniform(-0.02, 0.02)),
            roll_deg=base.get("roll_deg", 0.0) + float(rng.uniform(-3, 3)),
            yaw_deg=float(rng.uniform(-8, 8)),
            glare=base.get("glare", 0.0),
        )
        out.append((hint, SceneSpec(seed=seed + i, faces=(), card=card, noise=2.0)))
    return out


def main(count: int = 60) -> None:
    cv2.setNumThreads(1)
    times: list[float] = []
    right = 0
    for expected, spec in scenes(count):
        frame = render_scene(spec)
        guide = CardGuide()
        ms, status = time_ms(lambda f=frame, g=guide: g.update(f, 0.0))
        times.append(ms)
        right += status.hint == expected
    emit(
        {
            "frames": count,
            "card_ms_median_720p": median(times),
            "hint_accuracy": round(right / count, 4),
        }
    )


if __name__ == "__main__":
    main()
