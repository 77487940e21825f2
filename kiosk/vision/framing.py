"""Is the patient in the picture, centred, near enough, and alone?"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.base.status import CheckStatus
from kiosk.vision.faces import FaceBox

MIN_FACE_HEIGHT = 0.22  # of the frame height: smaller reads as far away on the clinician's screen
MAX_FACE_HEIGHT = 0.70
MAX_OFFSET_X = 0.18  # face centre from frame centre, fraction of the width
MAX_OFFSET_Y = 0.22


@dataclass(frozen=True)
class FramingResult:
    level: CheckStatus
    advice: str
    face_count: int
    face: FaceBox | None  # the largest face
    offset_x: float | None  # + means the face is right of centre in the picture
    offset_y: float | None  # + means below centre
    face_height: float | None


def analyse_framing(faces: tuple[FaceBox, ...]) -> FramingResult:
    """Judge the framing from the faces found (largest first)."""
    if not faces:
        return FramingResult(CheckStatus.FAIL, "framing.no_face", 0, None, None, None, None)
    face = max(faces, key=lambda f: f.area)
    dx, dy = face.cx - 0.5, face.cy - 0.5
    level, advice = CheckStatus.PASS, "framing.ok"
    if len(faces) > 1:
        level, advice = CheckStatus.WARN, "framing.people_count"
    elif face.h < MIN_FACE_HEIGHT:
        level, advice = CheckStatus.WARN, "framing.move_closer"
    elif face.h > MAX_FACE_HEIGHT:
        level, advice = CheckStatus.WARN, "framing.move_back"
    elif abs(dx) > MAX_OFFSET_X or abs(dy) > MAX_OFFSET_Y:
        level, advice = CheckStatus.WARN, "framing.center"
    return FramingResult(level, advice, len(faces), face, dx, dy, face.h)
