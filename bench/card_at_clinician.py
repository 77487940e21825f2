"""Can the clinician read the ID card? The card as the practitioner's side decodes it, for a
patient who holds a card in the guide, before and while they press "Show ID".

`python bench/card_at_clinician.py [--seconds 4]`

The kiosk engine runs with a generated 1280x720 camera at 30 frames a second: a patient
holding a card in the guide (`scenes`), with the small tremor of a held hand and sensor noise,
so the encoder has real work. The reference node and its practitioner bot (aiortc) are on
loopback; the bot keeps the newest frame it decoded. For each media mode (transcoded: the node
re-encodes the patient's video for the practitioner; direct: the practitioner gets the kiosk's
own stream), the call runs `--seconds` as it starts (the top rung, 640x480@15), then as long
again after the patient presses "Show ID". Each time the kiosk's own card finder reads the
frames the practitioner decoded: the card's width in those pixels (the mean of its top and
bottom edges) and the sharpness the kiosk judges cards by (variance of the Laplacian on the
card rectified to 320 px; the guide asks for at least 400).

Last line: per mode, `normal` and `id` figures (median over the frames read), the camera's
own card width and sharpness for reference, and `card_px_at_clinician` (the direct-media ID
figure, the clinician's best case) with `target_px` 600.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import emit_with_private_audio

from kiosk.cli.demo import demo_config
from kiosk.cli.journey import knock
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.engine.engine import Engine
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.session import events as ev
from kiosk.session.state import Phase
from kiosk.vision.idcard import Guide, find_card, measure_card
from scenes.cards import expected_hint
from scenes.render import CardSpec, SceneSpec, render_scene

ALIAS, HOST_PIN = "161803", "39887"
SIZE = (1280, 720)
HELD = SceneSpec(seed=11, card=CardSpec(cx=0.5, cy=0.52, width=0.6), noise=2.0)
TARGET_PX = 600


def held_card_frames(count: int = 30) -> list[np.ndarray]:
    """The held card a second long: a tremor of a pixel or two, fresh noise each frame."""
    frames = []
    for n in range(count):
        dx = 0.0015 * np.sin(2 * np.pi * n / count)
        dy = 0.001 * np.cos(2 * np.pi * 2 * n / count)
        assert HELD.card is not None
        card = CardSpec(cx=HELD.card.cx + dx, cy=HELD.card.cy + dy, width=HELD.card.width)
        frames.append(render_scene(SceneSpec(seed=HELD.seed + n, card=card, noise=2.0), SIZE))
    return frames


def card_figures(frame: np.ndarray) -> tuple[float, float] | None:
    """The card's width in `frame` pixels and the kiosk's sharpness of it, or None."""
    found = find_card(frame)
    if found is None:
        return None
    quad, clipped = found
    width = float(np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    h, w = frame.shape[:2]
    measure = measure_card(frame, quad, Guide.centred(w, h), clipped)
    return width, measure.sharpness if measure.sharpness is not None else float("nan")


async def read_at_clinician(bot: PractitionerBot, seconds: float) -> dict[str, Any]:
    widths, sharpness, sizes, unread = [], [], set(), 0
    deadline = asyncio.get_running_loop().time() + seconds
    seen = None
    while asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.25)
        frame = bot.latest_video
        if frame is None or frame is seen:
            continue
        seen = frame
        image = frame.to_ndarray(format="bgr24")
        sizes.add(f"{image.shape[1]}x{image.shape[0]}")
        figures = await asyncio.to_thread(card_figures, image)
        if figures is None:
            unread += 1
            continue
        widths.append(figures[0])
        sharpness.append(figures[1])
    return {
        "card_px": round(statistics.median(widths), 1) if widths else None,
        "sharpness": round(statistics.median(sharpness), 1) if sharpness else None,
        "frames_read": len(widths),
        "frames_without_a_card": unread,
        "sizes": sorted(sizes),
    }


async def one_mode(direct_media: bool, seconds: float, frames: list[np.ndarray]) -> dict[str, Any]:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=direct_media)])
    base_url = await node.start()
    bot = PractitionerBot(base_url, ALIAS, HOST_PIN, admit_after_s=0.3)
    await bot.start()
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    camera = CameraHub(
        SyntheticCamera(*SIZE, fps=30.0, render=lambda t: frames[round(t * 30) % len(frames)]),
        synthetic=True,
    )
    audio = AudioIO("", "")
    camera.start()
    audio.start()
    engine = Engine(config, camera, audio)
    await engine.start()
    try:
        await knock(engine, ALIAS)
        await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 30)
        await asyncio.sleep(2.0)  # the practitioner's decoder settles
        normal = await read_at_clinician(bot, seconds)
        engine.send(ev.ToggleShowId())
        await asyncio.sleep(1.5)  # the new size's first keyframe
        shown = await read_at_clinician(bot, seconds)
        engine.send(ev.HangUp())
        await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)
    finally:
        await engine.stop()
        camera.stop()
        audio.stop()
        await bot.leave()
        await node.stop()
    return {"normal": normal, "id": shown}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    assert expected_hint(HELD, SIZE) == "card.ok", "the scene must be a card held right"
    frames = await asyncio.to_thread(held_card_frames)
    at_camera = card_figures(frames[0])
    assert at_camera is not None
    results = {
        "transcoded": await one_mode(False, args.seconds, frames),
        "direct": await one_mode(True, args.seconds, frames),
    }
    for mode, figures in results.items():
        print(mode, figures, flush=True)
    best = results["direct"]["id"]["card_px"]
    return {
        **results,
        "camera": {"card_px": round(at_camera[0], 1), "sharpness": round(at_camera[1], 1)},
        "card_px_at_clinician": best,
        "target_px": TARGET_PX,
        "ok": best is not None and best >= TARGET_PX,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4.0)
    emit_with_private_audio(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
