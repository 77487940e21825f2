"""The start screen does not wait for what only a session needs: a fresh kiosk process with
its engine running has not imported the call (aiortc, PyAV), the wire client (aiohttp), zbar
or the checks; `preload` brings them in on a thread of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kiosk.engine.engine import LATER
from tests.support.pulse import PulseServer

LATE = ("aiortc", "av", "aiohttp", "pyzbar.pyzbar", *LATER)

SCRIPT = """
import asyncio, json, sys, time
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
import kiosk.engine.view  # what the UI reads of the engine

LATE = %r

async def main():
    loaded = lambda: [name for name in LATE if name in sys.modules]
    async with running_engine(KioskConfig(camera="synthetic"), preload=False) as engine:
        before = loaded()
        engine.preload()
        deadline = time.monotonic() + 60
        while len(loaded()) < len(LATE) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        print(json.dumps({"before": before, "after": loaded()}))

asyncio.run(main())
"""


def test_the_start_screen_leaves_the_session_modules_to_the_preload(
    pulse_server: PulseServer,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT % (LATE,)],
        env={**os.environ, "PULSE_SERVER": pulse_server.server},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"before": [], "after": list(LATE)}
