from __future__ import annotations

import numpy as np
import pytest

from kiosk.vision.idcard import CardGuide, find_card
from scenes.cards import HINTS, card_scene_set, expected_hint
from scenes.render import CardSpec, FaceSpec, SceneSpec, card_corners, render_scene

FACE = (FaceSpec(cx=0.5, cy=0.42, height=0.5),)


def _scene(card: CardSpec | None, blur: float = 0.0, busy: bool = False) -> SceneSpec:
    return SceneSpec(
        seed=3, faces=FACE if busy else (), card=card, blur=blur, noise=2, clutter=2 if busy else 0
    )


def _hint(spec: SceneSpec) -> str:
    return CardGuide().update(render_scene(spec), 0.0).hint


# Each hint with a scene on either side of its threshold; the expected hint is checked
# against the scene's parameters first, so the pair really straddles the threshold.
@pytest.mark.parametrize(
    ("card", "blur", "hint"),
    [
        (None, 0.0, "card.none"),
        (CardSpec(width=0.42), 0.0, "card.closer"),
        (CardSpec(width=0.5), 0.0, "card.ok"),
        (CardSpec(width=0.74), 0.0, "card.further"),
        (CardSpec(width=0.66), 0.0, "card.ok"),
        (CardSpec(width=0.5, cx=0.26), 0.0, "card.inside_frame"),
        (CardSpec(width=0.5, cx=0.32), 0.0, "card.ok"),
        (CardSpec(width=0.5, cx=0.15), 0.0, "card.inside_frame"),  # partly out of the frame
        (CardSpec(width=0.5, cy=0.85), 0.0, "card.inside_frame"),
        (CardSpec(width=0.5, roll_deg=13), 0.0, "card.straighten"),
        (CardSpec(width=0.5, roll_deg=7), 0.0, "card.ok"),
        (CardSpec(width=0.55, glare=0.11), 0.0, "card.glare"),
        (CardSpec(width=0.55, glare=0.05), 0.0, "card.ok"),
        (CardSpec(width=0.55), 3.0, "card.hold_still"),
        (CardSpec(width=0.55), 0.5, "card.ok"),
    ],
)
def test_one_hint_per_scene_on_both_sides_of_each_threshold(
    card: CardSpec | None, blur: float, hint: str
) -> None:
    spec = _scene(card, blur)
    assert expected_hint(spec) == hint
    assert _hint(spec) == hint


@pytest.mark.parametrize(
    ("card", "hint"),
    [
        (None, "card.none"),
        (CardSpec(width=0.42), "card.closer"),
        (CardSpec(width=0.5), "card.ok"),
        (CardSpec(width=0.74), "card.further"),
        (CardSpec(width=0.5, cx=0.26), "card.inside_frame"),
        (CardSpec(width=0.5, cx=0.32), "card.ok"),
        (CardSpec(width=0.5, cx=0.15), "card.inside_frame"),
        (CardSpec(width=0.5, cy=0.85), "card.inside_frame"),
        (CardSpec(width=0.5, roll_deg=13), "card.straighten"),
        (CardSpec(width=0.5, roll_deg=7), "card.ok"),
        (CardSpec(width=0.55, glare=0.11), "card.glare"),
        (CardSpec(width=0.55, glare=0.05), "card.ok"),
    ],
)
def test_a_face_and_clutter_behind_the_card(card: CardSpec | None, hint: str) -> None:
    spec = _scene(card, busy=True)
    assert expected_hint(spec) == hint
    assert _hint(spec) == hint


def test_corners_land_within_a_few_pixels_of_the_truth_with_a_face_behind() -> None:
    card = CardSpec(width=0.55, roll_deg=4, yaw_deg=6)
    found = find_card(render_scene(_scene(card, busy=True)))
    assert found is not None
    corners, clipped = found
    assert not clipped
    assert float(np.abs(corners - card_corners(card)).max()) < 4.0


def test_generated_set_spans_every_hint_and_mostly_gets_it_right() -> None:
    scenes = card_scene_set(24, seed=5)
    assert {s.expected for s in scenes} == set(HINTS)
    right = [_hint(s.spec) == s.expected for s in scenes]
    assert sum(right) / len(right) >= 0.85


def test_good_only_after_the_card_held_still_long_enough() -> None:
    good = render_scene(_scene(CardSpec(width=0.55)))
    far = render_scene(_scene(CardSpec(width=0.3)))
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
