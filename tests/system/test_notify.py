"""sd_notify client: the real datagram protocol, and a frozen loop really stops the pings."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.system.notify import Notifier, socket_address, watchdog_interval

CHILD = """
import asyncio, signal, time
from kiosk.system import notify

async def main() -> None:
    loop = asyncio.get_running_loop()
    # SIGUSR1 blocks the event loop itself, as a hung UI would.
    loop.add_signal_handler(signal.SIGUSR1, lambda: time.sleep(60))
    notify.status("starting up")
    notify.ready()
    while True:
        notify.watchdog()
        await asyncio.sleep(0.01)

asyncio.run(main())
"""

WATCHDOG_USEC = 400_000


def _receive(sock: socket.socket, seconds: float) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        got.append((time.monotonic(), data.decode()))
    return got


@pytest.fixture(params=["path", "abstract"])
def listener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    if request.param == "path":
        name = str(tmp_path / "notify")
    else:
        name = f"@kiosk-notify-test-{uuid.uuid4().hex}"
    sock.bind(socket_address(name))
    yield sock, name
    sock.close()


def test_ready_then_pings_then_silence_when_the_loop_freezes(
    listener: tuple[socket.socket, str],
) -> None:
    sock, name = listener
    env = dict(os.environ, NOTIFY_SOCKET=name, WATCHDOG_USEC=str(WATCHDOG_USEC))
    env.pop("WATCHDOG_PID", None)
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env)
    try:
        running = _receive(sock, 1.5)
        frozen_at = time.monotonic()
        child.send_signal(signal.SIGUSR1)
        frozen = _receive(sock, 3 * WATCHDOG_USEC / 1e6)
        assert child.poll() is None, "the frozen child should still be running"
    finally:
        child.kill()
        child.wait()

    messages = [m for _, m in running]
    pings = len(messages) - 2
    assert messages == ["STATUS=starting up", "READY=1"] + ["WATCHDOG=1"] * pings
    # 1.5 s at one ping per interval/4 (0.1 s): about 15, never a flood from the 10 ms tick.
    assert 8 <= pings <= 16
    times = [t for t, m in running if m == "WATCHDOG=1"]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) < WATCHDOG_USEC / 1e6, f"a gap reached the watchdog timeout: {gaps}"
    # A ping already in flight when the signal lands may still arrive; nothing after that.
    assert [m for t, m in frozen if t > frozen_at + 0.15] == []


def test_watchdog_interval_reads_usec_and_respects_pid() -> None:
    me = str(os.getpid())
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert watchdog_interval({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": me}) == 0.5
    assert watchdog_interval({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "x"}) is None


def test_without_notify_socket_every_call_is_a_no_op() -> None:
    notifier = Notifier(environ={})
    assert not notifier.enabled
    assert [notifier.ready(), notifier.watchdog(), notifier.stopping(), notifier.status("x")] == [
        False
    ] * 4


def test_a_missing_manager_is_survived_and_found_again(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    notifier = Notifier(environ={"NOTIFY_SOCKET": str(path)})
    assert notifier.ready() is False  # nobody listening yet: no exception
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    try:
        assert notifier.status("in call\nSTOPPING=1") is True
        assert notifier.stopping() is True
        assert [m for _, m in _receive(sock, 0.2)] == ["STATUS=in call STOPPING=1", "STOPPING=1"]
    finally:
        notifier.close()
        sock.close()


def test_watchdog_pings_are_spaced_by_the_clock(tmp_path: Path) -> None:
    now = [100.0]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "n"))
    notifier = Notifier(
        environ={"NOTIFY_SOCKET": str(tmp_path / "n"), "WATCHDOG_USEC": "2000000"},
        monotonic=lambda: now[0],
    )
    sent = []
    for step in [0.0, 0.2, 0.2, 0.2, 0.0, 0.5]:
        now[0] += step
        sent.append(notifier.watchdog())
    notifier.close()
    assert sent == [True, False, False, True, False, True]
    assert [m for _, m in _receive(sock, 0.2)] == ["WATCHDOG=1"] * 3
    sock.close()
