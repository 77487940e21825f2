"""Does the microphone hear the patient? Speech level, clipping, ambient noise, missing device.

After webrtc/testrtc's microphone test: speech must reach -60 dBFS RMS; six or more consecutive
full-scale samples are clipping. The noise floor is a low percentile of recent 20 ms block
levels, i.e. the room between words. The patient is asked to say something
("microphone.say_something") until they have been heard.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from kiosk.base.status import CheckStatus
from kiosk.checks.verdict import CheckResult, History
from kiosk.devices.ringbuffer import Samples, measure

SPEECH_DBFS = -60.0
SPEECH_ABOVE_FLOOR_DB = 10.0
SPEECH_BLOCKS = 5  # 100 ms of speech-level blocks within the window
CLIP_RUN = 6
CLIP_HOLD_S = 3.0  # clipping keeps its warning this long after the last clipped block
NOISY_FLOOR_DBFS = -40.0
WINDOW_S = 3.0
FLOOR_PERCENTILE = 20
SPEECH_WAIT_S = 8.0  # then the request to speak turns into a warning (still passable)
MIN_BLOCKS = 10


def longest_full_scale_run(block: Samples, carried: int = 0) -> tuple[int, int]:
    """Longest run of full-scale samples in `block` (continuing a run of `carried` from the
    previous block), and the run still open at its end."""
    full = (block >= 32767) | (block <= -32768)
    if not full.any():
        return 0, 0
    edges = np.diff(np.concatenate(([0], full.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs = ends - starts
    if starts[0] == 0:
        runs[0] += carried
    trailing = int(runs[-1]) if ends[-1] == len(block) else 0
    return int(runs.max()), trailing


class MicrophoneCheck:
    name = "microphone"

    def __init__(self, started: float) -> None:
        self._started = started
        self._levels: deque[tuple[float, float]] = deque()
        self._carried = 0
        self._clipped_at: float | None = None
        self._heard_at: float | None = None
        self._peak_dbfs = -100.0
        self.history = History()

    def feed(self, block: Samples, at: float) -> None:
        level = measure(block).rms_dbfs
        self._levels.append((at, level))
        while self._levels and at - self._levels[0][0] > WINDOW_S:
            self._levels.popleft()
        longest, self._carried = longest_full_scale_run(block, self._carried)
        if longest >= CLIP_RUN:
            self._clipped_at = at
        if self._heard_at is None and self._speech_in_window():
            self._heard_at = at
        self._peak_dbfs = max(self._peak_dbfs, level)

    def floor_dbfs(self) -> float | None:
        if len(self._levels) < MIN_BLOCKS:
            return None
        return float(np.percentile([lv for _, lv in self._levels], FLOOR_PERCENTILE))

    def _speech_in_window(self) -> bool:
        floor = self.floor_dbfs()
        if floor is None:
            return False
        threshold = max(SPEECH_DBFS, floor + SPEECH_ABOVE_FLOOR_DB)
        return sum(lv >= threshold for _, lv in self._levels) >= SPEECH_BLOCKS

    def result(self, now: float, missing: bool) -> CheckResult:
        return self.history.note(self._judge(now, missing))

    def _judge(self, now: float, missing: bool) -> CheckResult:
        if missing:
            return CheckResult(self.name, CheckStatus.FAIL, "microphone.missing")
        floor = self.floor_dbfs()
        figures: tuple[tuple[str, float], ...] = (("peak_dbfs", round(self._peak_dbfs, 1)),)
        if floor is not None:
            figures += (("noise_dbfs", round(floor, 1)),)
        if self._clipped_at is not None and now - self._clipped_at <= CLIP_HOLD_S:
            return CheckResult(self.name, CheckStatus.WARN, "microphone.clipping", figures)
        if self._heard_at is None:
            waiting = now - self._started < SPEECH_WAIT_S
            status = CheckStatus.RUNNING if waiting else CheckStatus.WARN
            return CheckResult(self.name, status, "microphone.say_something", figures)
        if floor is not None and floor > NOISY_FLOOR_DBFS:
            return CheckResult(self.name, CheckStatus.WARN, "microphone.noisy", figures)
        return CheckResult(self.name, CheckStatus.PASS, "microphone.ok", figures)
