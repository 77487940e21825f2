"""Find a QR code in a camera frame quickly, and scan off the UI thread.

zbar reads every row and every column of what it is given, so its time is the picture's area:
~70–120 ms for a full noisy 720p frame here, 4–7 ms for the frame halved. Passes, cheapest
first, stop at the first hit: the part of the halved frame dense with strong edges (a code's
modules) and the whole halved frame, each Otsu-binarised (contrast normalised, noise
flattened); the central region at full resolution (small codes); the whole frame as it is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, wait

import cv2
import numpy as np
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

from kiosk.base.frames import BgrFrame, GreyFrame, small_grey
from kiosk.vision.worker import vision_worker

_QR_ONLY = [ZBarSymbol.QRCODE]
CELL = 8  # pixels of the halved frame per cell of the edge map the code is looked for in
EDGE_CONTRAST = 60  # grey levels across a pixel: a module's edge, not noise or shading
DENSE = 0.3  # share of a cell on such edges: a code's modules, not a face or a wall
_NEIGHBOURS = np.ones((3, 3), np.uint8)


def _decode(grey: GreyFrame) -> bytes | None:
    found = pyzbar.decode(np.ascontiguousarray(grey), symbols=_QR_ONLY)
    return bytes(found[0].data) if found else None


def _otsu(grey: GreyFrame) -> GreyFrame:
    return np.asarray(cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1])


def code_region(grey: GreyFrame) -> tuple[int, int, int, int] | None:
    """Where in `grey` a QR code most likely is, as (x0, y0, x1, y1) with a margin for its
    quiet zone: the largest patch of cells dense with strong edges. None without one."""
    h, w = grey.shape
    if h < CELL or w < CELL:
        return None
    edges = cv2.morphologyEx(grey, cv2.MORPH_GRADIENT, _NEIGHBOURS)
    strong = cv2.threshold(edges, EDGE_CONTRAST, 255, cv2.THRESH_BINARY)[1]
    density = cv2.resize(strong, (w // CELL, h // CELL), interpolation=cv2.INTER_AREA)
    dense = np.asarray(density >= DENSE * 255, dtype=np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(dense, connectivity=8)
    if count < 2:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, cw, ch = (int(v) for v in stats[best, :4])
    margin = 1 + max(cw, ch) // 8
    return (
        max(0, (x - margin) * CELL),
        max(0, (y - margin) * CELL),
        min(w, (x + cw + margin) * CELL),
        min(h, (y + ch + margin) * CELL),
    )


def scan_frame(frame: BgrFrame | GreyFrame) -> bytes | None:
    """The payload of a QR code in `frame`, or None."""
    h, w = frame.shape[:2]
    half = small_grey(frame, max(1, w // 2))

    def region() -> bytes | None:
        found = code_region(half)
        if found is None:
            return None
        x0, y0, x1, y1 = found
        return _decode(_otsu(half[y0:y1, x0:x1]))

    whole: list[GreyFrame] = []  # the full-resolution grey, made only if a pass needs it

    def full() -> GreyFrame:
        if not whole:
            grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
            whole.append(np.asarray(grey, dtype=np.uint8))
        return whole[0]

    def centre() -> bytes | None:
        middle = full()[:, max(0, w // 2 - h // 2) : w // 2 + h // 2]
        return _decode(_otsu(np.asarray(cv2.GaussianBlur(middle, (3, 3), 0), np.uint8)))

    attempts: tuple[Callable[[], bytes | None], ...] = (
        region,
        lambda: _decode(_otsu(half)),
        centre,
        lambda: _decode(full()),
    )
    for attempt in attempts:
        data = attempt()
        if data is not None:
            return data
    return None


class QrScanner:
    """At most one scan in flight on the analysers' thread; frames offered meanwhile replace
    each other, so the newest is scanned next and the rest are dropped."""

    def __init__(self, on_result: Callable[[bytes], None]) -> None:
        self._on_result = on_result
        self._lock = threading.Lock()
        self._busy = False
        self._closed = False
        self._pending: BgrFrame | None = None
        self._running: Future[None] | None = None
        self.scanned = 0
        self.dropped = 0

    def offer(self, frame: BgrFrame) -> None:
        """Never blocks."""
        with self._lock:
            if self._closed:
                return
            if self._busy:
                if self._pending is not None:
                    self.dropped += 1
                self._pending = frame
                return
            self._busy = True
            self._running = vision_worker().submit(self._run, frame)
        self._running.add_done_callback(self._done)

    def _run(self, frame: BgrFrame) -> None:
        while True:
            data = scan_frame(frame)
            self.scanned += 1
            if data is not None:
                self._on_result(data)
            with self._lock:
                if self._pending is None:
                    self._busy = False
                    return
                frame, self._pending = self._pending, None

    @staticmethod
    def _done(future: Future[None]) -> None:
        future.result()

    def close(self) -> None:
        """Drop what waits and return once the scan in flight (if any) is done."""
        with self._lock:
            self._closed = True
            self._pending = None
            running = self._running
        if running is not None:
            wait([running])
