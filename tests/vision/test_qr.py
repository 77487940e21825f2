from __future__ import annotations

import threading

from kiosk.base.frames import small_grey
from kiosk.vision.qr import QrScanner, code_region, scan_frame
from scenes.qr_codes import PAYLOAD, qr_frames
from scenes.render import FaceSpec, QrSpec, SceneSpec, qr_corners, render_scene


def test_generated_codes_decode() -> None:
    results = [scan_frame(frame) == payload.encode() for payload, frame in qr_frames(24, seed=1)]
    assert sum(results) >= 23, results


def test_the_code_is_looked_for_first_where_edges_are_dense() -> None:
    """The first pass reads only the region around the code: a fifth of the halved frame or
    less for a code held at a normal distance, with the whole code and its quiet zone in it."""
    for i, (roll, cx) in enumerate([(0.0, 0.5), (25.0, 0.3), (-15.0, 0.7)]):
        qr = QrSpec(PAYLOAD.format(alias="123456"), side=0.35, cx=cx, roll_deg=roll)
        frame = render_scene(SceneSpec(seed=i, faces=(FaceSpec(cx=1 - cx),), qr=qr, noise=4))
        half = small_grey(frame, 640)
        found = code_region(half)
        assert found is not None
        x0, y0, x1, y1 = found
        corners = qr_corners(qr) / 2
        assert (corners.min(axis=0) >= (x0, y0)).all() and (corners.max(axis=0) <= (x1, y1)).all()
        assert (x1 - x0) * (y1 - y0) <= half.size / 5


def test_without_a_code_the_first_pass_reads_little_or_nothing() -> None:
    for seed in range(3):
        half = small_grey(render_scene(SceneSpec(seed=seed, noise=5)), 640)
        found = code_region(half)  # at most a detail of the face (eyes and brows)
        assert found is None or (found[2] - found[0]) * (found[3] - found[1]) <= half.size / 50


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
