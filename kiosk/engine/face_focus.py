"""Where the patient's face is in the self view, for the screen's crop: looked for a few
times a second on a small grey copy, on its own thread, so the UI loop never waits for it.
Only the point is kept, never the picture."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor

import cv2
import numpy as np

from kiosk.base.frames import RgbFrame, small_grey
from kiosk.vision.face_tracking import FaceTracker


class FaceFinder:
    def __init__(self, every_s: float = 0.25) -> None:
        self._every_s = every_s
        self._looked_at = 0.0
        self._pending: Future[tuple[float, float] | None] | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._tracker: FaceTracker | None = None

    def offer(self, frame: RgbFrame) -> None:
        """Take the newest self-view frame; now and then it is searched for a face."""
        now = time.monotonic()
        if self._pending is not None or now - self._looked_at < self._every_s:
            return
        self._looked_at = now
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-focus")
        self._pending = self._executor.submit(self._find, frame)

    def take(self) -> tuple[float, float] | None:
        """The point the last finished search found, as fractions of the picture (x from the
        left, y from the top, not mirrored), once; None while none has a new answer."""
        pending = self._pending
        if pending is None or not pending.done():
            return None
        self._pending = None
        if pending.cancelled() or pending.exception() is not None:
            return None
        return pending.result()

    def _find(self, frame: RgbFrame) -> tuple[float, float] | None:
        # Only this worker thread uses the tracker; `clear` drops it for a fresh one.
        tracker = self._tracker or FaceTracker()
        self._tracker = tracker
        grey = small_grey(np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), dtype=np.uint8))
        faces = tracker.find(grey).faces
        if not faces:
            return None
        face = faces[0]
        # A little below the face's centre: chin and shoulders stay in view.
        return (face.cx, min(1.0, face.cy + face.h * 0.15))

    def clear(self) -> None:
        """Forget the last patient: a new search starts from nothing."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        self._tracker = None
        self._looked_at = 0.0

    def close(self) -> None:
        self.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
