"""Knock and admission latency with Chromium as the practitioner, on loopback.

The kiosk engine (synthetic camera, PortAudio on a private PulseAudio null sink) knocks on
the reference node; the practitioner page in headless Chromium admits it. Measured on the
kiosk side, per run:

    tap_to_knock_s          the Continue intent after the checks -> the waiting phase
    admit_to_first_frame_s  our participant admitted (in call) -> first decoded remote frame

    python bench/join.py [--runs 5] [--direct-media]

Last line: {"runs", "tap_to_knock_s", "admit_to_first_frame_s" (medians), the single
figures, and the budgets (0.5 s, 1.0 s)}. Measures, never asserts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit, median
from kiosk.base.privacy import configure_logging
from kiosk.cli.demo import demo_config
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.engine.engine import Engine
from kiosk.refnode import RefNode, RoomSpec
from kiosk.session import events as ev
from kiosk.session.state import Phase, SessionState
from tests.e2e.practitioner_page import PractitionerPage, chromium
from tests.support.pulse import _reinit_portaudio, start_pulse

# A room that exists only inside the node this script starts.
ALIAS, HOST_PIN = "246810", "97531"
PATIENT = KioskConfig().display_name


async def one_run(engine: Engine, page: PractitionerPage, run: int) -> tuple[float, float]:
    marks: dict[str, float] = {}

    def mark(state: SessionState) -> None:
        now = time.perf_counter()
        if state.phase is Phase.WAITING:
            marks.setdefault("waiting", now)
        if state.phase is Phase.IN_CALL:
            marks.setdefault("admitted", now)
        if state.phase is Phase.IN_CALL and state.remote_media:
            marks.setdefault("first_frame", now)

    unsubscribe = engine.subscribe(mark)
    try:
        engine.send(ev.Tap())
        for digit in ALIAS:
            engine.send(ev.Digit(digit))
        engine.send(ev.SubmitNumber())
        await engine.wait_for(lambda s: s.checks is not None, 30)
        marks["continue"] = time.perf_counter()
        engine.send(ev.Continue())
        await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
        await page.wait_waiting(PATIENT)
        await page.admit(PATIENT)
        await engine.wait_for(lambda s: s.remote_media, 20)
        engine.send(ev.HangUp())
        await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)
        await page.wait_for(f"window.practitioner.departed.length === {run + 1}", 10)
        engine.send(ev.Dismiss())
        await engine.wait_for(lambda s: s.phase is Phase.IDLE, 10)
    finally:
        unsubscribe()
    return (
        marks["waiting"] - marks["continue"],
        marks["first_frame"] - marks["admitted"],
    )


async def bench(runs: int, direct_media: bool) -> dict[str, Any]:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=direct_media)])
    base_url = await node.start()
    knock: list[float] = []
    admit: list[float] = []
    error = None
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            config = demo_config(base_url, KioskConfig(camera="synthetic"))
            async with running_engine(config) as engine:
                for run in range(runs):
                    try:
                        tap, first = await one_run(engine, page, run)
                    except TimeoutError:
                        error = f"run {run} stuck in {engine.state.phase.value}"
                        break
                    knock.append(round(tap, 3))
                    admit.append(round(first, 3))
    finally:
        await node.stop()
    result: dict[str, Any] = {
        "runs": len(knock),
        "media": "direct" if direct_media else "transcoded",
        "tap_to_knock_s": median(knock) if knock else None,
        "admit_to_first_frame_s": median(admit) if admit else None,
        "tap_to_knock_s_each": knock,
        "admit_to_first_frame_s_each": admit,
        "budget_tap_to_knock_s": 0.5,
        "budget_admit_to_first_frame_s": 1.0,
    }
    if error is not None:
        result["error"] = error
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--direct-media", action="store_true")
    args = parser.parse_args()
    configure_logging()
    pulse = start_pulse()
    os.environ["PULSE_SERVER"] = pulse.server
    _reinit_portaudio()
    try:
        result = asyncio.run(bench(args.runs, args.direct_media))
    finally:
        pulse.stop()
    emit(result)


if __name__ == "__main__":
    main()
