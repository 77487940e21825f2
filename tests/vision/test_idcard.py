from __future__ import annotations

import pytest

from kiosk.vision.idcard import CardGuide
from kiosk.vision.scenes import CardSpec, SceneSpec, render_scene


def _hint(card: CardSpec | None, blur: float = 0.0) -> str:
    frame = render_scene(SceneSpec(seed=3, faces=(), card=card, blur=blur, noise=2))
    return CardGuide().update(frame, 0.0).hint


@pytest.mark.parametrize(
    ("card", "blur", "hint"),
    [
        (None, 0.0, "card.none"),
        (CardSpec(width=0.3), 0.0, "card.closer"),
        (CardSpec(width=0.55), 0.0, "card.ok"),
        (CardSpec(width=0.78, cy=0.5), 0.0, "card.further"),
        (CardSpec(width=0.5, cx=0.265), 0.0, "card.inside_frame"),
        (CardSpec(width=0.55, roll_deg=16), 0.0, "card.straighten"),
        (CardSpec(width=0.55, roll_deg=6), 0.0, "card.ok"),
        (CardSpec(width=0.55, glare=0.12), 0.0, "card.glare"),
        (CardSpec(width=0.55), 3.0, "card.hold_still"),
    ],
)
def test_one_hint_per_scene(card: CardSpec | None, blur: float, hint: str) -> None:
    assert _hint(card, blur) == hint


def test_good_only_after_the_card_held_still_long_enough() -> None:
    good = render_scene(SceneSpec(seed=3, faces=(), card=CardSpec(width=0.55), noise=2))
    far = render_scene(SceneSpec(seed=3, faces=(), card=CardSpec(width=0.3), noise=2))
    guide = CardGuide()
    timeline = [(0.0, good), (0.4, good), (0.5, far), (0.6, good), (1.0, good), (1.31, good)]
    history = [(t, guide.update(frame, t).hint) for t, frame in timeline]
    assert history == [
        (0.0, "card.ok"),
        (0.4, "card.ok"),
        (0.5, "card.closer"),
        (0.6, "card.ok"),
        (1.0, "card.ok"),
        (1.31, "card.good"),
    ]
    with pytest.raises(ValueError, match="not going back"):
        guide.update(good, 1.0)
