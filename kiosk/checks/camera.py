"""Does the camera deliver a live picture? Frame rate, black frames, frozen frames, unplug.

Thresholds after webrtc/testrtc's camera test: black when the mean luma is below 20, fail when
more than a third of the frames are black or frozen or below 5 fps. A camera that delivered
nothing for a second, or that the hub reports unplugged, fails at once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2

from kiosk.base.frames import GreyFrame
from kiosk.base.status import CheckStatus
from kiosk.checks.verdict import CheckResult, History
from kiosk.devices.camera import CameraState

WINDOW_S = 1.5
MIN_SPAN_S = 0.6  # less time measured: still measuring
MIN_SAMPLES = 4
GAP_S = 0.5  # a longer pause between frames starts the measurement afresh
STALL_S = 1.5  # no frame for this long (or none since the start): the camera is gone
BLACK_LUMA = 20.0
# A camera re-sending one buffer gives exactly equal frames; sensor noise alone gives far more.
FROZEN_DIFF = 0.1
BAD_SHARE = 1 / 3
GOOD_FPS = 14.0  # 15 fps nominal, one frame of scheduling jitter over the window
MIN_FPS = 5.0


@dataclass(frozen=True)
class _Sample:
    seq: int
    at: float
    black: bool
    frozen: bool


class CameraCheck:
    name = "camera"

    def __init__(self, synthetic: bool, started: float) -> None:
        self._synthetic = synthetic
        self._started = started
        self._samples: deque[_Sample] = deque()
        self._previous: GreyFrame | None = None
        self._last_at: float | None = None
        self._last_seq = -1
        self.history = History()

    def feed(self, seq: int, grey: GreyFrame, captured_at: float) -> None:
        """One frame the hub delivered, as its small grey copy; frames skipped in between
        still count for the rate."""
        # A pause between the frames we look at is the camera's only if it delivered nothing
        # in between: a busy kiosk may look less often while the camera runs on.
        if (
            self._last_at is not None
            and captured_at - self._last_at > GAP_S
            and seq - self._last_seq <= 1
        ):
            self._samples.clear()
            self._previous = None
        black = float(grey.mean()) < BLACK_LUMA
        frozen = False
        if self._previous is not None:
            diff = cv2.absdiff(grey, self._previous)
            frozen = float(diff.mean()) < FROZEN_DIFF
        self._previous = grey
        self._last_at = captured_at
        self._last_seq = seq
        self._samples.append(_Sample(seq, captured_at, black, frozen))
        while self._samples and captured_at - self._samples[0].at > WINDOW_S:
            self._samples.popleft()

    def result(self, now: float, state: CameraState, newest_at: float | None = None) -> CheckResult:
        """`newest_at`: when the hub's newest frame was captured (the camera's own clock of
        life, whether or not this check has looked at that frame yet)."""
        return self.history.note(self._judge(now, state, newest_at))

    def _judge(self, now: float, state: CameraState, newest_at: float | None) -> CheckResult:
        seen = [t for t in (self._last_at, newest_at) if t is not None]
        since = max(seen) if seen else self._started
        if state is CameraState.UNPLUGGED or now - since > STALL_S:
            # Frames from before the unplug say nothing about the camera that comes back.
            self._samples.clear()
            self._previous = None
            return CheckResult(self.name, CheckStatus.FAIL, "camera.unplugged")
        # Enough of the camera's frames spanned (by their numbers), not enough looks at them:
        # a busy kiosk looks less often, the camera's rate is what is judged.
        if (
            len(self._samples) < 2
            or self._samples[-1].seq - self._samples[0].seq < MIN_SAMPLES - 1
            or self._samples[-1].at - self._samples[0].at < MIN_SPAN_S
        ):
            return CheckResult(self.name, CheckStatus.RUNNING, "camera.checking")
        samples = list(self._samples)
        span = samples[-1].at - samples[0].at
        fps = (samples[-1].seq - samples[0].seq) / span if span > 0 else 0.0
        black = sum(s.black for s in samples) / len(samples)
        frozen = sum(s.frozen for s in samples[1:]) / (len(samples) - 1)
        figures = (("fps", round(fps, 1)), ("black", round(black, 2)), ("frozen", round(frozen, 2)))
        if black > BAD_SHARE:
            return CheckResult(self.name, CheckStatus.FAIL, "camera.black", figures)
        if frozen > BAD_SHARE:
            return CheckResult(self.name, CheckStatus.FAIL, "camera.frozen", figures)
        if fps < MIN_FPS:
            return CheckResult(self.name, CheckStatus.FAIL, "camera.slow", figures)
        if self._synthetic:
            # No camera: the clinician would see a generated picture, not the patient.
            return CheckResult(self.name, CheckStatus.WARN, "camera.synthetic", figures)
        if fps < GOOD_FPS:
            return CheckResult(self.name, CheckStatus.WARN, "camera.slow", figures)
        return CheckResult(self.name, CheckStatus.PASS, "camera.ok", figures)
