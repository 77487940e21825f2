from __future__ import annotations

import numpy as np
import pytest

from kiosk.vision.analysis import FrameAnalyser
from kiosk.vision.light import is_too_bright, is_too_dark
from scenes.render import FaceSpec, SceneSpec, moving, render_scene

ANALYSER = FrameAnalyser(recount_every=1)


def _advice(spec: SceneSpec) -> tuple[str, str, int]:
    ANALYSER.reset()
    result = ANALYSER.analyse(render_scene(spec))
    return result.light.advice, result.framing.advice, result.framing.face_count


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (SceneSpec(seed=1), ("light.ok", "framing.ok", 1)),
        (SceneSpec(seed=1, brightness=0.25), ("light.too_dark", "framing.no_face", 0)),
        (SceneSpec(seed=1, brightness=0.9), ("light.ok", "framing.ok", 1)),
        (SceneSpec(seed=1, brightness=1.9), ("light.too_bright", "framing.ok", 1)),
        (SceneSpec(seed=1, brightness=1.2), ("light.ok", "framing.ok", 1)),
        (SceneSpec(seed=2, backlight=True), ("light.backlit", "framing.no_face", 0)),
        (SceneSpec(seed=4, faces=(FaceSpec(side_shadow=0.6),)), ("light.uneven", "framing.ok", 1)),
        (SceneSpec(seed=4, faces=(FaceSpec(side_shadow=0.15),)), ("light.ok", "framing.ok", 1)),
        (SceneSpec(seed=3, faces=()), ("light.ok", "framing.no_face", 0)),
        (
            SceneSpec(seed=3, faces=(FaceSpec(cx=0.3, height=0.3), FaceSpec(cx=0.7, height=0.3))),
            ("light.ok", "framing.people_count", 2),
        ),
        (SceneSpec(seed=3, faces=(FaceSpec(height=0.17),)), ("light.ok", "framing.move_closer", 1)),
        (SceneSpec(seed=3, faces=(FaceSpec(height=0.3),)), ("light.ok", "framing.ok", 1)),
        (SceneSpec(seed=3, faces=(FaceSpec(cx=0.8),)), ("light.ok", "framing.center", 1)),
        (SceneSpec(seed=3, faces=(FaceSpec(cx=0.62),)), ("light.ok", "framing.ok", 1)),
        (
            SceneSpec(seed=3, faces=(FaceSpec(height=0.8, cy=0.5),)),
            ("light.ok", "framing.move_back", 1),
        ),
    ],
)
def test_each_rule_on_both_sides(spec: SceneSpec, expected: tuple[str, str, int]) -> None:
    assert _advice(spec) == expected


def test_libwebrtc_rules_at_their_thresholds() -> None:
    assert is_too_dark(mean=70, median=55, std=54, p5=49, p95=150, dark=0.1)
    assert not is_too_dark(mean=70, median=55, std=56, p5=49, p95=150, dark=0.1)
    assert not is_too_dark(mean=70, median=55, std=54, p5=51, p95=150, dark=0.1)
    assert is_too_bright(mean=100, median=100, std=80, p5=10, p95=255, bright=0.40)
    assert not is_too_bright(mean=100, median=100, std=80, p5=10, p95=255, bright=0.39)


def test_a_new_session_does_not_inherit_the_faces_of_the_last() -> None:
    analyser = FrameAnalyser(recount_every=4)
    assert analyser.analyse(moving(0.0, size=(1280, 720))).framing.face_count == 1
    analyser.reset()
    empty = analyser.analyse(render_scene(SceneSpec(faces=())))
    assert (empty.faces_recounted, empty.framing.advice) == (True, "framing.no_face")


def test_scenes_are_deterministic_from_the_seed() -> None:
    a = render_scene(SceneSpec(seed=5, noise=4))
    assert np.array_equal(a, render_scene(SceneSpec(seed=5, noise=4)))
    assert not np.array_equal(a, render_scene(SceneSpec(seed=6, noise=4)))
