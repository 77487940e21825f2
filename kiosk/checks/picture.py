"""Light and framing over a few seconds of frames, judged by kiosk.vision's analysers.

One frame can mislead (a hand passing, the patient leaning over), so each verdict is the
advice most frames in the last `WINDOW_S` agree on; a tie goes to the newer advice. The face
count is the one most frames agree on, so the screen can say how many people it sees.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence

from kiosk.base.frames import GreyFrame
from kiosk.base.status import CheckStatus
from kiosk.checks.verdict import CheckResult, History
from kiosk.vision.analysis import FrameAnalyser, FrameAnalysis

WINDOW_S = 1.5
MIN_ANALYSES = 3


def majority(values: Sequence[str]) -> str:
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in reversed(values) if counts[v] == best)


class PictureCheck:
    """Feeds frames to one `FrameAnalyser`; `analyse` may run on a worker thread, one call at
    a time."""

    def __init__(self, analyser: FrameAnalyser | None = None) -> None:
        self._analyser = analyser or FrameAnalyser()
        self._analyser.reset()
        self._window: deque[tuple[float, FrameAnalysis]] = deque()
        self.light_history = History()
        self.framing_history = History()

    def analyse(self, grey: GreyFrame) -> FrameAnalysis:
        """`grey`: the frame's small grey copy (`CameraFrame.small_grey`)."""
        return self._analyser.analyse_grey(grey)

    def add(self, captured_at: float, analysis: FrameAnalysis) -> None:
        self._window.append((captured_at, analysis))
        while self._window and captured_at - self._window[0][0] > WINDOW_S:
            self._window.popleft()

    def clear(self) -> None:
        """Forget the frames seen (the camera went away; old frames say nothing now)."""
        self._window.clear()

    def light(self) -> CheckResult:
        return self.light_history.note(self._light())

    def framing(self) -> CheckResult:
        return self.framing_history.note(self._framing())

    def _light(self) -> CheckResult:
        analyses = [a for _, a in self._window]
        if len(analyses) < MIN_ANALYSES:
            return CheckResult("light", CheckStatus.RUNNING, "light.checking")
        advice = majority([a.light.advice for a in analyses])
        chosen = next(a.light for a in reversed(analyses) if a.light.advice == advice)
        figures: tuple[tuple[str, float], ...] = (
            ("mean", round(chosen.mean, 1)),
            ("std", round(chosen.std, 1)),
        )
        if chosen.subject_mean is not None:
            figures += (("subject_mean", round(chosen.subject_mean, 1)),)
        return CheckResult("light", chosen.level, advice, figures)

    def _framing(self) -> CheckResult:
        analyses = [a for _, a in self._window]
        if len(analyses) < MIN_ANALYSES:
            return CheckResult("framing", CheckStatus.RUNNING, "framing.checking")
        advice = majority([a.framing.advice for a in analyses])
        faces = int(majority([str(a.framing.face_count) for a in analyses]))
        chosen = next(a.framing for a in reversed(analyses) if a.framing.advice == advice)
        figures: tuple[tuple[str, float], ...] = (("faces", float(faces)),)
        if chosen.face_height is not None:
            figures += (("face_height", round(chosen.face_height, 2)),)
        return CheckResult("framing", chosen.level, advice, figures)
