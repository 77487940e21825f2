from __future__ import annotations

import threading

from kiosk.vision.qr import QrScanner, scan_frame
from scenes.qr_codes import qr_frames
from scenes.render import SceneSpec, render_scene


def test_generated_codes_decode() -> None:
    results = [scan_frame(frame) == payload.encode() for payload, frame in qr_frames(24, seed=1)]
    assert sum(results) >= 23, results


def test_no_code_no_payload() -> None:
    assert scan_frame(render_scene(SceneSpec(seed=2, noise=5))) is None


def test_scanner_scans_the_newest_frame_and_drops_the_rest() -> None:
    frames = [frame for _, frame in qr_frames(4, seed=2)]
    payloads = [p.encode() for p, _ in qr_frames(4, seed=2)]
    seen: list[bytes] = []
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def on_result(data: bytes) -> None:
        seen.append(data)
        if len(seen) == 1:
            started.set()
            release.wait(5)
        else:
            done.set()

    scanner = QrScanner(on_result)
    scanner.offer(frames[0])
    assert started.wait(5)
    for frame in frames[1:]:  # while the first is in flight
        scanner.offer(frame)
    release.set()
    assert done.wait(5)
    scanner.close()
    assert seen == [payloads[0], payloads[3]]
    assert (scanner.scanned, scanner.dropped) == (2, 2)
