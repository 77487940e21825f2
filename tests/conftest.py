"""Tests that measure real-time media (calls, audio levels, frame rates, reconnect times) are
marked `realtime`. `make test` runs everything else on both cores first, then these one at a
time with the machine to themselves, so each measures the kiosk and not another test."""

from __future__ import annotations

import asyncio
import atexit
import faulthandler
import gc
import io
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# One sound server for the whole run (a fixture imported into several conftests would start
# one per directory, all running at once).
from tests.support.pulse import pulse_server as pulse_server

# Kivy's files go to a directory of this process's own, set before anything imports Kivy (test
# modules do, at collection). Kivy creates ~/.kivy/mods on its first import; two workers doing
# that at once on a fresh machine raced, and one failed to collect its tests.
_kivy_home = tempfile.mkdtemp(prefix="kiosk-test-kivy-")
os.environ["KIVY_HOME"] = _kivy_home
atexit.register(shutil.rmtree, _kivy_home, ignore_errors=True)

# Hypothesis' per-example deadline measures the wall clock, which a busy machine stretches;
# the tests that bound a parser's cost measure its CPU time themselves (tests/fuzz).
settings.register_profile("kiosk", deadline=None)
settings.load_profile("kiosk")

REALTIME = (
    "checks/test_audio.py",
    "checks/test_summary.py",
    "devices/test_audio.py",
    "devices/test_echo.py",
    "devices/test_speech_playback.py",
    "e2e/",
    "engine/test_engine.py",
    "engine/test_faults.py",
    "engine/test_management.py",
    "engine/test_privacy.py",
    "media/test_call.py",
    "media/test_call_audio_controls.py",
    "media/test_quality_netlab.py",
    "refnode/",
    "support/test_netns.py",
    "ui/test_journey.py",
    "ui/test_read_aloud.py",
    "ui/test_scene_screens.py",
    "ui/test_staff.py",
)
_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = Path(str(item.fspath)).resolve().relative_to(_TESTS).as_posix()
        if relative.startswith(REALTIME):
            item.add_marker(pytest.mark.realtime)


# pytest-timeout fails a test once (signal method); a teardown that then hangs, or a main
# thread blocked inside C where no signal handler runs, would hold the run until the CI's
# own limit, with nothing in the log. This backstop writes down what is stuck: once the test
# has had its own limit and a margin, the event loops' pending tasks (if a loop still turns),
# which it cancels once more; at twice its limit, every thread's stack, and the run ends.
BACKSTOP_MARGIN_S = 120.0
_backstop_fd: int | None = None


def pytest_configure(config: pytest.Config) -> None:
    # A copy of stderr taken before capture replaces it, so the dump reaches the log.
    global _backstop_fd
    _backstop_fd = os.dup(sys.stderr.fileno())


# After the last test the interpreter still has to end: it waits for every thread that is not a
# daemon, and a library thread stuck in C would hold a finished run for ever. From here on it
# has this long, then every thread's stack goes to the log and the process ends.
EXIT_BACKSTOP_S = 180.0


def pytest_unconfigure(config: pytest.Config) -> None:
    faulthandler.dump_traceback_later(EXIT_BACKSTOP_S, exit=True, file=_backstop_fd or 2)


def _dump_pending_tasks(name: str) -> None:
    fd = _backstop_fd or 2
    os.write(fd, f"\n+++ {name} is past its time limit; pending tasks follow +++\n".encode())
    # By type, not isinstance: a weak proxy among the objects whose referent is gone raises
    # on isinstance, and the dump ended there, silently, the first time it was needed.
    loops = [o for o in gc.get_objects() if issubclass(type(o), asyncio.AbstractEventLoop)]
    for loop in loops:
        if not loop.is_running():
            continue

        def dump(loop: asyncio.AbstractEventLoop = loop) -> None:
            text = io.StringIO()
            for task in asyncio.all_tasks(loop):
                print(task, file=text)
                print(_awaiting(task), file=text)
                # A task that swallowed the loop's one cancellation at shutdown ends on a
                # second, and the rest of the run goes on; the test has already failed.
                task.cancel()
            os.write(fd, text.getvalue().encode())

        loop.call_soon_threadsafe(dump)


def _awaiting(task: asyncio.Task[object]) -> str:
    """Where a task waits, through every coroutine it awaits (a task's own stack stops at
    its outermost one)."""
    lines = []
    awaited: object = task.get_coro()
    while awaited is not None and len(lines) < 50:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            code = frame.f_code
            lines.append(f"    {code.co_filename}:{frame.f_lineno} in {code.co_name}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return "\n".join(lines)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    marker = item.get_closest_marker("timeout")
    limit = (
        float(marker.args[0]) if marker and marker.args else float(item.config.getini("timeout"))
    )
    tasks = threading.Timer(limit + BACKSTOP_MARGIN_S, _dump_pending_tasks, [item.nodeid])
    tasks.daemon = True
    tasks.start()
    faulthandler.dump_traceback_later(
        2 * limit + BACKSTOP_MARGIN_S, exit=True, file=_backstop_fd or 2
    )
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        tasks.cancel()
