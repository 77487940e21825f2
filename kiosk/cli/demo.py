"""`kiosk demo`: the kiosk against a local conference node with a practitioner bot.

With `--headless` a scripted patient goes through the whole journey with the real engine,
node, WebRTC and audio devices, and the figures are printed as JSON on the last line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from kiosk.cli.journey import JourneyError, JourneyPlan, run_journey
from kiosk.cli.signals import keep_signals_from_sdl, run_until_signal
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig, load_config, with_overrides
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.refnode.room import RoomSpec
from kiosk.refnode.server import RefNode

log = logging.getLogger(__name__)

# The demo room is not a patient's: it exists only inside this process.
DEMO_ROOM = RoomSpec(alias="246810", host_pin="97531")


@dataclass(frozen=True)
class DemoNode:
    base_url: str
    room: RoomSpec
    bot: PractitionerBot


@asynccontextmanager
async def demo_node(
    admit_after_s: float, waiting_timeout_s: float = 900.0
) -> AsyncIterator[DemoNode]:
    node = RefNode([DEMO_ROOM], waiting_timeout_s=waiting_timeout_s)
    base_url = await node.start("127.0.0.1", 0)
    bot = PractitionerBot(
        base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin, admit_after_s=admit_after_s
    )
    await bot.start()
    try:
        yield DemoNode(base_url, DEMO_ROOM, bot)
    finally:
        await bot.leave()
        await node.stop()


def demo_config(base_url: str, base: KioskConfig | None = None) -> KioskConfig:
    base = base or load_config()
    return with_overrides(
        base,
        node_url=base_url,
        allowed_hosts=("127.0.0.1",),
        clinic_phone=base.clinic_phone or "22 22 22 22",
        fullscreen=base.fullscreen or os.environ.get("KIOSK_FULLSCREEN") == "1",
    )


async def headless(admit_after_s: float, patience: float = 1.0) -> dict[str, object]:
    async with demo_node(admit_after_s) as demo:
        config = demo_config(demo.base_url)
        async with running_engine(config) as engine:
            plan = JourneyPlan(alias=demo.room.alias, patience=patience)
            result = await run_journey(engine, plan)
        result["practitioner_video_frames"] = demo.bot.video_frames_received
        result["practitioner_audio_frames"] = demo.bot.audio_frames_received
    return result


async def windowed(admit_after_s: float) -> str | None:
    keep_signals_from_sdl()
    from kiosk.ui.app import KioskApp  # only the windowed demo needs kivy

    async with demo_node(admit_after_s) as demo:
        print(f"Demo: type the number {demo.room.alias} on the kiosk.", flush=True)
        config = demo_config(demo.base_url)
        async with running_engine(config, echo_cancel=True, preload=False) as engine:
            app = KioskApp(engine, fullscreen=config.fullscreen)
            app.on_first_frame = engine.preload
            return await run_until_signal(app)


def main(headless_run: bool, as_json: bool, admit_after_s: float, patience: float = 1.0) -> int:
    if not headless_run:
        stopped_by = asyncio.run(windowed(admit_after_s))
        if stopped_by is not None:
            print(f"Demo stopped ({stopped_by}).", file=sys.stderr, flush=True)
        return 0
    try:
        result = asyncio.run(headless(admit_after_s, patience))
    except KeyboardInterrupt:
        # asyncio.run has already cancelled the journey and closed the node; one line is all
        # the person at the keyboard needs.
        print("Demo stopped (SIGINT).", file=sys.stderr, flush=True)
        return 130
    except JourneyError as exc:
        log.error("the demo journey failed: %s", exc)
        if as_json:
            print(json.dumps({"ok": False, "error": str(exc)}))
        return 1
    result["ok"] = True
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    sys.stdout.flush()
    return 0
