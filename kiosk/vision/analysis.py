"""Light, framing and the number of faces for each camera frame, within a few milliseconds.

Light is judged on every frame. Faces are confirmed on every frame too, by the cascade,
around where they were; the whole picture is searched every few frames and whenever a face
is not confirmed (`face_tracking`).
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.base.frames import BgrFrame, GreyFrame, small_grey
from kiosk.vision.face_tracking import FaceTracker
from kiosk.vision.faces import FaceDetector
from kiosk.vision.framing import FramingResult, analyse_framing
from kiosk.vision.light import LightResult, analyse_light


@dataclass(frozen=True)
class FrameAnalysis:
    light: LightResult
    framing: FramingResult
    faces_recounted: bool  # the whole picture was searched for faces on this very frame


class FrameAnalyser:
    """Not thread-safe: one analyser per consumer thread."""

    def __init__(self, recount_every: int = 4, detector: FaceDetector | None = None) -> None:
        self._tracker = FaceTracker(detector, recount_every)

    def reset(self) -> None:
        """Forget the faces seen (a new session must not inherit the previous one's)."""
        self._tracker.reset()

    def analyse(self, frame: BgrFrame) -> FrameAnalysis:
        return self.analyse_grey(small_grey(frame))

    def analyse_grey(self, grey: GreyFrame) -> FrameAnalysis:
        """`grey`: the frame reduced by `kiosk.base.frames.small_grey`."""
        search = self._tracker.find(grey)
        framing = analyse_framing(search.faces)
        light = analyse_light(grey, framing.face)
        return FrameAnalysis(light=light, framing=framing, faces_recounted=search.recounted)
