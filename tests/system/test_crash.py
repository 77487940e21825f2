"""Unhandled errors end the process promptly with a non-zero code and a log free of data."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from kiosk.system.crash import EXIT_CODE, describe

PRELUDE = """
import asyncio, sys, threading, time
from kiosk.base.privacy import configure_logging
from kiosk.system.crash import install_crash_handlers

configure_logging()

async def boom() -> None:
    await asyncio.sleep(0.05)
    raise ValueError("meeting Kari Nordmann pin abc")
"""

SCENARIOS = {
    "task nobody awaits (still referenced)": """
async def main() -> None:
    install_crash_handlers(asyncio.get_running_loop())
    kept = asyncio.create_task(boom())
    await asyncio.sleep(20)
    print("still alive", kept)
asyncio.run(main())
""",
    "callback": """
async def main() -> None:
    loop = asyncio.get_running_loop()
    install_crash_handlers(loop)
    def cb() -> None:
        raise KeyError("Kari Nordmann")
    loop.call_later(0.05, cb)
    await asyncio.sleep(20)
    print("still alive")
asyncio.run(main())
""",
    "thread": """
async def main() -> None:
    install_crash_handlers(asyncio.get_running_loop())
    def work() -> None:
        raise RuntimeError("Kari Nordmann")
    threading.Thread(target=work, name="capture").start()
    await asyncio.sleep(20)
    print("still alive")
asyncio.run(main())
""",
    "main thread": """
install_crash_handlers(asyncio.new_event_loop())
raise OSError("Kari Nordmann")
""",
}


def _run(body: str, timeout: float = 15) -> tuple[int, str, str, float]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(PRELUDE) + body],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_an_unhandled_error_ends_the_process(scenario: str) -> None:
    code, out, err, took = _run(SCENARIOS[scenario])
    assert code == EXIT_CODE, f"expected exit {EXIT_CODE}, got {code}; stderr: {err}"
    assert "still alive" not in out
    assert took < 5, f"took {took:.1f} s to die"
    critical = [line for line in err.splitlines() if line.startswith("CRITICAL")]
    assert len(critical) == 1, err
    assert "exiting for a restart" in critical[0]
    assert "Kari" not in err and "pin abc" not in err


def test_task_error_names_type_and_place() -> None:
    code, _, err, _ = _run(SCENARIOS["task nobody awaits (still referenced)"])
    assert code == EXIT_CODE
    assert "an asyncio task" in err and "ValueError at <string>" in err and "in boom" in err


def test_handled_errors_and_transport_noise_do_not_end_the_process() -> None:
    code, out, err, _ = _run(
        """
async def main() -> None:
    loop = asyncio.get_running_loop()
    install_crash_handlers(loop)
    try:
        await asyncio.create_task(boom())
    except ValueError:
        print("handled")
    results = await asyncio.gather(boom(), return_exceptions=True)
    print("gathered", type(results[0]).__name__)
    cancelled = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    cancelled.cancel()
    loop.call_exception_handler(
        {"message": "Fatal read error", "exception": ConnectionResetError(), "transport": None}
    )
    await asyncio.sleep(1.0)
    print("still alive")
asyncio.run(main())
"""
    )
    assert (code, out.split("\n")) == (0, ["handled", "gathered ValueError", "still alive", ""]), (
        err
    )
    assert "WARNING kiosk.system.crash: event loop reported ConnectionResetError" in err


def test_describe_keeps_types_and_frames_but_no_message() -> None:
    def inner() -> None:
        raise ValueError("0123 Kari")

    try:
        try:
            inner()
        except ValueError as exc:
            raise RuntimeError("Nordmann") from exc
    except RuntimeError as exc:
        text = describe(exc)
    assert text.startswith("RuntimeError at test_crash.py:")
    assert "; caused by ValueError at test_crash.py:" in text and "in inner" in text
    assert "Kari" not in text and "Nordmann" not in text
