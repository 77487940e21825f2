"""What the engine reads from the camera for the session itself: join links in QR codes on
the number screen, and the ID-card guide while the patient shows a card in the call.

Both run off the event loop on the newest frame only, and keep nothing: a frame is dropped
as soon as it was looked at, and a QR code's content is never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from kiosk.devices.camera import CameraHub
from kiosk.session import events as ev
from kiosk.vision.idcard import CardGuide, CardStatus
from kiosk.vision.join_payload import JoinTarget, parse_join_payload
from kiosk.vision.qr import QrScanner
from kiosk.vision.worker import vision_worker

log = logging.getLogger(__name__)

SCAN_INTERVAL_S = 0.1
CARD_INTERVAL_S = 0.1
# The same code held in front of the camera is read many times a second; say it once.
REPEAT_QUIET_S = 3.0


class QrJoinReader:
    """Turns QR codes seen by the camera into `NumberScanned` or `QrRefused` events."""

    def __init__(
        self,
        camera: CameraHub,
        allowed_hosts: tuple[str, ...],
        node_host: str,
        post: Callable[[ev.Event], None],
    ) -> None:
        self._camera = camera
        self._allowed = allowed_hosts
        self._node_host = node_host
        self._post = post
        self._last: tuple[bytes, float] | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()

        def found(data: bytes) -> None:  # on the scanner's worker thread
            loop.call_soon_threadsafe(self._found, data)

        scanner = QrScanner(found)
        seq = -1
        try:
            while True:
                frame = self._camera.latest()
                if frame is not None and frame.seq != seq:
                    seq = frame.seq
                    scanner.offer(frame.image)
                await asyncio.sleep(SCAN_INTERVAL_S)
        finally:
            scanner.close()

    def _found(self, data: bytes) -> None:
        now = time.monotonic()
        if (
            self._last is not None
            and self._last[0] == data
            and now - self._last[1] < REPEAT_QUIET_S
        ):
            return
        self._last = (data, now)
        result = parse_join_payload(data, self._allowed)
        if isinstance(result, JoinTarget):
            host = None if result.host in (None, self._node_host) else result.host
            log.info("a join code was read from the camera")
            self._post(ev.NumberScanned(result.alias, host))
        else:
            log.info("a QR code was refused: %s", result.reason)
            self._post(ev.QrRefused(result.reason))


class CardWatcher:
    """Runs the ID-card guide on the newest frames while the patient shows a card."""

    def __init__(self, camera: CameraHub) -> None:
        self._camera = camera
        self._guide = CardGuide(frame_size=camera.size)
        self.status: CardStatus | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        self._guide.reset()
        seq = -1
        # The analysers' own thread: the guide must not queue behind name lookups.
        worker = vision_worker()
        try:
            while True:
                frame = self._camera.latest()
                if frame is not None and frame.seq != seq:
                    seq = frame.seq
                    self.status = await loop.run_in_executor(
                        worker, self._guide.update, frame.image, frame.captured_at
                    )
                await asyncio.sleep(CARD_INTERVAL_S)
        finally:
            self.status = None
