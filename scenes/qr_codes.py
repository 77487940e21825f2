"""A generated set of camera frames with a QR join code in them, for tests and benchmarks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from kiosk.base.frames import BgrFrame
from scenes.render import FaceSpec, QrSpec, SceneSpec, render_scene

PAYLOAD = "https://join.nhn.no/webapp/conference/{alias}?role=guest"


def qr_frames(count: int, seed: int = 0) -> Iterator[tuple[str, BgrFrame]]:
    """(payload, 1280×720 frame) pairs: sizes, rotations up to 30°, perspective, blur, noise."""
    rng = np.random.default_rng(seed)
    for i in range(count):
        payload = PAYLOAD.format(alias=f"{rng.integers(0, 1_000_000):06d}")
        qr = QrSpec(
            payload=payload,
            side=float(rng.uniform(0.3, 0.6)),
            cx=float(rng.uniform(0.4, 0.6)),
            cy=float(rng.uniform(0.4, 0.6)),
            roll_deg=float(rng.uniform(-30, 30)),
            yaw_deg=float(rng.uniform(-20, 20)),
            pitch_deg=float(rng.uniform(-15, 15)),
        )
        spec = SceneSpec(
            seed=seed * 10_000 + i,
            faces=(FaceSpec(cx=float(rng.uniform(0.4, 0.6))),),
            qr=qr,
            blur=float(rng.uniform(0.0, 1.2)),
            noise=float(rng.uniform(0.0, 8.0)),
        )
        yield payload, render_scene(spec)
