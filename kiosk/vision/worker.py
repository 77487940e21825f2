"""The one thread the camera analysers run on, for as long as the kiosk runs.

Every thread that calls into OpenCV keeps about a kilobyte of OpenCV's own for good, and
those blocks, scattered through the heap, kept freed memory from going back: with fresh
threads for each session's checks, QR reading and card guide, the kiosk grew by ~100 kB a
consultation. The checks, the QR reader and the card guide never run at the same time, so
one thread serves them all; it is not the event loop's shared executor, which also resolves
names and must not make the picture wait.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_worker: ThreadPoolExecutor | None = None


def vision_worker() -> ThreadPoolExecutor:
    """The shared analysis thread (made on first use); never shut down by its users."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vision")
        return _worker
