"""A camera opened through OpenCV's V4L2 backend, chosen by index, path or name."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from kiosk.base.frames import BgrFrame

log = logging.getLogger(__name__)

SYS_V4L = Path("/sys/class/video4linux")


class CameraUnavailable(RuntimeError):
    """The camera could not be opened."""


def list_cameras() -> list[tuple[str, str]]:
    """(device path, name) of every V4L2 node, in index order."""
    if not SYS_V4L.is_dir():
        return []
    found = []
    for node in sorted(SYS_V4L.iterdir(), key=lambda p: (len(p.name), p.name)):
        name_file = node / "name"
        name = name_file.read_text().strip() if name_file.exists() else node.name
        found.append((f"/dev/{node.name}", name))
    return found


def resolve_camera(spec: str) -> str | int | None:
    """`""` → first camera, `"2"` → index 2, `/dev/…` → that node, else a name substring."""
    if spec.isdigit():
        return int(spec)
    if spec.startswith("/"):
        return spec
    cameras = list_cameras()
    if not spec:
        return cameras[0][0] if cameras else None
    for path, name in cameras:
        if spec.lower() in name.lower():
            return path
    return None


class V4l2Camera:
    """Reads frames from a V4L2 device; `read` returns None when the device stops answering."""

    def __init__(self, spec: str, width: int = 640, height: int = 480, fps: float = 15.0) -> None:
        self.spec = spec
        self.name = spec or "first camera"
        self.width = width
        self.height = height
        self.fps = fps
        self._capture: cv2.VideoCapture | None = None

    def open(self) -> None:
        target = resolve_camera(self.spec)
        if target is None:
            raise CameraUnavailable(f"expected a camera matching {self.spec!r}, found none")
        capture = cv2.VideoCapture(target, cv2.CAP_V4L2)
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"camera {target!r} exists but could not be opened")
        # Motion JPEG: over USB 2 most webcams give 1280x720 at 30 frames a second only so.
        capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"MJPG"))
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        capture.set(cv2.CAP_PROP_FPS, self.fps)
        # One buffered frame: the newest picture matters, not every picture.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        # What the camera really gives is what the kiosk works with: a 640x480 camera is not
        # blown up to look like more.
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(capture.get(cv2.CAP_PROP_FPS))
        if width > 0 and height > 0:
            self.width, self.height = width - width % 2, height - height % 2
        if 0 < fps <= 60:
            self.fps = fps
        self._capture = capture

    def read(self) -> BgrFrame | None:
        if self._capture is None:
            return None
        ok, image = self._capture.read()
        if not ok or image is None:
            return None
        if image.shape[1] != self.width or image.shape[0] != self.height:
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return np.asarray(image, dtype=np.uint8)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
