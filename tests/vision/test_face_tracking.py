"""Faces followed from frame to frame: confirmed on every frame, recounted every few, and
searched for again at once when one is not where it was."""

from __future__ import annotations

import pytest

from kiosk.base.frames import GreyFrame, small_grey
from kiosk.vision.face_tracking import FaceTracker, overlap
from kiosk.vision.faces import FaceBox, FaceDetector
from scenes.render import FaceSpec, SceneSpec, moving, render_scene

DETECTOR = FaceDetector()


def grey_scene(*faces: FaceSpec, seed: int = 3) -> GreyFrame:
    return small_grey(render_scene(SceneSpec(seed=seed, faces=faces), (1280, 720)))


def test_a_swaying_patient_is_confirmed_on_every_frame_and_recounted_every_fourth() -> None:
    tracker = FaceTracker(DETECTOR, recount_every=4)
    frames = [small_grey(moving(i / 15, size=(1280, 720))) for i in range(12)]
    history = []
    for grey in frames:
        search = tracker.find(grey)
        truth = DETECTOR.detect(grey)
        assert len(truth) == 1
        # The followed box is the box a whole-picture search finds on the same frame.
        assert overlap(search.faces[0], truth[0]) > 0.7
        history.append((search.recounted, len(search.faces)))
    assert history == [(True, 1), (False, 1), (False, 1), (False, 1)] * 3


def test_a_second_person_stepping_in_is_counted_at_the_next_recount() -> None:
    alone = grey_scene(FaceSpec(cx=0.3, height=0.3))
    together = grey_scene(FaceSpec(cx=0.3, height=0.3), FaceSpec(cx=0.7, height=0.3))
    tracker = FaceTracker(DETECTOR, recount_every=3)
    searches = [tracker.find(alone)] + [tracker.find(together) for _ in range(3)]
    history = [(s.recounted, len(s.faces)) for s in searches]
    assert history == [(True, 1), (False, 1), (False, 1), (True, 2)]


@pytest.mark.parametrize(
    "after",
    [
        (),  # the patient got up
        (FaceSpec(cx=0.75, height=0.42),),  # moved far to the side at once
        (FaceSpec(height=0.25),),  # leaned far back
    ],
    ids=["gone", "moved_aside", "leaned_back"],
)
def test_a_face_not_where_it_was_is_searched_for_in_the_whole_picture_at_once(
    after: tuple[FaceSpec, ...],
) -> None:
    tracker = FaceTracker(DETECTOR, recount_every=10)
    tracker.find(grey_scene(FaceSpec()))
    search = tracker.find(grey_scene(*after))
    assert search.recounted
    assert len(search.faces) == len(after)
    if after:
        spec, found = after[0], search.faces[0]
        assert abs(found.cx - spec.cx) < 0.05
        assert tracker.find(grey_scene(*after)).recounted is False


def test_reset_forgets_the_faces() -> None:
    tracker = FaceTracker(DETECTOR, recount_every=10)
    tracker.find(grey_scene(FaceSpec()))
    tracker.reset()
    assert tracker.find(grey_scene()).faces == ()


def test_boxes_overlap_as_intersection_over_union() -> None:
    a = FaceBox(0.0, 0.0, 0.2, 0.2)
    assert overlap(a, a) == pytest.approx(1.0)
    assert overlap(a, FaceBox(0.1, 0.0, 0.2, 0.2)) == pytest.approx(1 / 3)
    assert overlap(a, FaceBox(0.5, 0.5, 0.1, 0.1)) == 0.0


def test_recount_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="recount_every must be >= 1, got 0"):
        FaceTracker(DETECTOR, recount_every=0)
