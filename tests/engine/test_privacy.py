"""Nothing about a patient reaches the disk or the log, or outlives the session in memory:
the headless journey runs under an audit hook that records every file opened for writing,
with debug logging on; and after a journey's wipe no live URL names the meeting."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from yarl import URL

import kiosk.pexip.url_cache as url_cache
from kiosk.cli.demo import DEMO_ROOM, demo_config
from kiosk.cli.journey import JourneyPlan, run_journey
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from tests.support.pulse import PulseServer

_CHILD = textwrap.dedent(
    """
    import json, os, sys, tempfile
    WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    allowed = os.path.realpath(tempfile.gettempdir())
    written = []

    def hook(event, args):
        if event != "open" or not args:
            return
        path, mode, flags = args
        if not isinstance(path, (str, bytes)):
            return  # an already-open descriptor
        wants_write = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & WRITE
        )
        if not wants_write:
            return
        real = os.path.realpath(os.fsdecode(path))
        if real == "/dev/null" or real.startswith(allowed + os.sep):
            return
        written.append(real)

    sys.addaudithook(hook)
    from kiosk.cli import main
    code = main(["-v", "demo", "--headless", "--json", "--admit-after", "0.3"])
    print("WRITTEN " + json.dumps(written), flush=True)
    sys.exit(code)
    """
)


def test_headless_journey_writes_nothing_and_logs_no_personal_data(
    pulse_server: PulseServer,
) -> None:
    runtime = tempfile.mkdtemp(prefix="kiosk-runtime-")
    env = {
        **os.environ,
        "TMPDIR": runtime,
        "XDG_RUNTIME_DIR": runtime,
        "HOME": runtime,
        "KIOSK_CONFIG": str(Path(runtime) / "absent.toml"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    written_line = next(line for line in proc.stdout.splitlines() if line.startswith("WRITTEN "))
    assert json.loads(written_line.removeprefix("WRITTEN ")) == []
    result = json.loads(next(line for line in proc.stdout.splitlines() if line.startswith("{")))
    assert result["ok"] is True
    # The journey logged at debug level, so a leak would show here.
    assert "session checks -> joining" in proc.stderr
    for secret in (DEMO_ROOM.alias, DEMO_ROOM.host_pin, "Pasient", "Klinikar"):
        assert secret not in proc.stderr, f"the log carries {secret!r}"


ROOM_ALIAS, ROOM_PIN = "583920", "4711"  # this test's own, found nowhere else in the suite


async def test_no_request_url_naming_the_meeting_outlives_the_wipe(
    pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The node and its practitioner run in a child process, so every URL alive here is
    # the kiosk's own.
    node = subprocess.Popen(
        [sys.executable, "-m", "kiosk.refnode", "--port", "0", "--room",
         f"{ROOM_ALIAS}:{ROOM_PIN}", "--bot-admit-after", "0.3"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    forget, at_wipe = url_cache.forget_request_urls, []

    def forget_and_count() -> int:
        cleared = forget()
        gc.collect()
        at_wipe.append(
            sorted(str(o) for o in gc.get_objects() if isinstance(o, URL) and ROOM_ALIAS in str(o))
        )
        return cleared

    # The engine looks it up at each wipe.
    monkeypatch.setattr(url_cache, "forget_request_urls", forget_and_count)
    try:
        assert node.stdout is not None
        listening = node.stdout.readline().split()
        assert len(listening) > 3, f"expected the node's address, got {listening!r}"
        config = demo_config(listening[3].rstrip(";"), KioskConfig(camera="synthetic"))
        async with running_engine(config) as engine:
            await run_journey(engine, JourneyPlan(alias=ROOM_ALIAS, call_seconds=1))
    finally:
        node.terminate()
        node.wait(10)
    assert at_wipe == [[]]
