"""Consecutive headless consultations in one kiosk process: does anything pile up?

The conference node and its practitioner bot run in a child process, so the RSS and the open
file descriptors measured here (after each session's wipe) are the kiosk's alone.

    python bench/soak.py [--sessions 50] [--call-seconds 20] [--admit-after 0.5]

Last line: {"sessions", "failures", "rss_mb_first", "rss_mb_last", "rss_growth_pct",
"fds_first", "fds_last", ...}. Targets: no failures, RSS growth <= 5 %, no fd growth.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import emit
from kiosk.base.privacy import configure_logging
from kiosk.cli.journey import JourneyError, JourneyPlan, run_journey
from kiosk.cli.wiring import running_engine
from kiosk.config import load_config, with_overrides

# A room that exists only inside the node this script starts.
ALIAS = "246810"
HOST_PIN = "97531"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def node_process(admit_after_s: float) -> Iterator[str]:
    """The reference node with its practitioner bot, in a child process; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.refnode",
            "--port",
            str(port),
            "--room",
            f"{ALIAS}:{HOST_PIN}",
            "--bot-admit-after",
            str(admit_after_s),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"expected the reference node on port {port} within 15 s, "
                    f"got exit code {process.poll()}"
                )
            time.sleep(0.1)
        time.sleep(1.0)  # the bot joins right after the node listens
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("expected VmRSS in /proc/self/status, found none")


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def soak(sessions: int, call_seconds: float, admit_after_s: float) -> dict[str, Any]:
    rss: list[float] = []
    fds: list[int] = []
    failures: list[str] = []
    started = time.monotonic()
    with node_process(admit_after_s) as base_url:
        config = with_overrides(
            load_config(), node_url=base_url, allowed_hosts=("127.0.0.1",), clinic_phone="0"
        )
        async with running_engine(config) as engine:
            # A call of `call_seconds` whatever the frame counts: the minimums are unreachable.
            plan = JourneyPlan(
                alias=ALIAS,
                call_seconds=call_seconds,
                min_video_frames=10**9,
                min_audio_frames=10**9,
            )
            for index in range(sessions):
                try:
                    result = await run_journey(engine, plan)
                    if not result["ended_clean"]:
                        failures.append(f"session {index + 1}: not wiped clean")
                except (JourneyError, TimeoutError) as exc:
                    failures.append(f"session {index + 1}: {exc}")
                    with contextlib.suppress(Exception):
                        await engine.wait_for(lambda s: s.phase.value == "idle", 30)
                rss.append(round(rss_mb(), 1))
                fds.append(open_fds())
                print(
                    f"session {index + 1}/{sessions}: rss {rss[-1]} MB, fds {fds[-1]}, "
                    f"failures {len(failures)}",
                    flush=True,
                )
    return {
        "sessions": sessions,
        "call_seconds": call_seconds,
        "failures": len(failures),
        "failure_reasons": failures[:5],
        "rss_mb_first": rss[0],
        "rss_mb_last": rss[-1],
        "rss_mb_max": max(rss),
        "rss_growth_pct": round((rss[-1] - rss[0]) / rss[0] * 100.0, 2),
        "fds_first": fds[0],
        "fds_last": fds[-1],
        "elapsed_s": round(time.monotonic() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--call-seconds", type=float, default=20.0)
    parser.add_argument("--admit-after", type=float, default=0.5)
    args = parser.parse_args()
    if args.sessions < 1 or args.call_seconds <= 0:
        parser.error("expected --sessions >= 1 and --call-seconds > 0")
    configure_logging(logging.WARNING)
    emit(asyncio.run(soak(args.sessions, args.call_seconds, args.admit_after)))


if __name__ == "__main__":
    main()
