"""Light and framing for a stream of camera frames, within a few milliseconds a frame.

Light is judged on every frame; faces are searched on every `face_every`-th frame only (the
Haar cascade is most of the cost) and the last answer is reused in between, which a patient
sitting in front of the kiosk cannot tell apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.vision.faces import FaceBox, FaceDetector
from kiosk.vision.frames import BgrFrame, GreyFrame, small_grey
from kiosk.vision.framing import FramingResult, analyse_framing
from kiosk.vision.light import LightResult, analyse_light

ANALYSIS_WIDTH = 320


@dataclass(frozen=True)
class FrameAnalysis:
    light: LightResult
    framing: FramingResult
    faces_fresh: bool  # faces were searched on this very frame


class FrameAnalyser:
    """Not thread-safe: one analyser per consumer thread."""

    def __init__(self, face_every: int = 3, detector: FaceDetector | None = None) -> None:
        if face_every < 1:
            raise ValueError(f"face_every must be >= 1, got {face_every}")
        self._detector = detector or FaceDetector()
        self._face_every = face_every
        self._count = 0
        self._faces: tuple[FaceBox, ...] = ()

    def reset(self) -> None:
        """Forget the faces seen (a new session must not inherit the previous one's)."""
        self._count = 0
        self._faces = ()

    def analyse(self, frame: BgrFrame) -> FrameAnalysis:
        return self.analyse_grey(small_grey(frame, ANALYSIS_WIDTH))

    def analyse_grey(self, grey: GreyFrame) -> FrameAnalysis:
        fresh = self._count % self._face_every == 0
        self._count += 1
        if fresh:
            self._faces = self._detector.detect(grey)
        framing = analyse_framing(self._faces)
        light = analyse_light(grey, framing.face)
        return FrameAnalysis(light=light, framing=framing, faces_fresh=fresh)
