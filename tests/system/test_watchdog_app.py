"""The watchdog path with the real app: `kiosk run` under Xvfb with a notify socket. READY=1
comes once the start screen is drawn, WATCHDOG=1 keeps coming from the UI loop, and stops as
soon as that loop freezes, which is what makes systemd restart a hung kiosk."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.xvfb import xvfb_display

__all__ = ["xvfb_display"]

# A wrapper around the real entry point whose only addition is a way to freeze the event loop:
# a signal handler runs on the loop's thread and blocks it.
_APP = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGUSR1, lambda *_: time.sleep(600))
    from kiosk.cli import main
    sys.exit(main(["run"]))
    """
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.2)
    yield sock, path
    sock.close()


def _messages(
    sock: socket.socket, seconds: float, enough: Callable[[list[str]], bool] = lambda _: False
) -> list[tuple[float, str]]:
    got: list[tuple[float, str]] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not enough([m for _, m in got]):
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        got.extend((time.monotonic(), line) for line in data.decode().splitlines())
    return got


def test_ready_after_the_start_screen_then_watchdog_until_the_ui_freezes(
    xvfb_display: str, notify_socket: tuple[socket.socket, Path], tmp_path: Path
) -> None:
    sock, path = notify_socket
    config = tmp_path / "kiosk.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            node_url = "https://join.example.no"
            allowed_hosts = ["join.example.no"]
            camera = "synthetic"
            microphone = "no such microphone"
            speaker = "no such speaker"
            management_port = {_free_port()}
            ctl_socket = "{tmp_path / "ctl.sock"}"
            """
        )
    )
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
        "KIOSK_CONFIG": str(config),
        "NOTIFY_SOCKET": str(path),
        "WATCHDOG_USEC": "2000000",
        "KCFG_GRAPHICS_WIDTH": "1280",
        "KCFG_GRAPHICS_HEIGHT": "800",
    }
    env.pop("WATCHDOG_PID", None)
    app = subprocess.Popen(
        [sys.executable, "-c", _APP],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def ready_and_pinging(names: list[str]) -> bool:
            return "READY=1" in names and names[names.index("READY=1") :].count("WATCHDOG=1") >= 3

        started = _messages(sock, 60.0, ready_and_pinging)
        names = [m for _, m in started]
        if "READY=1" not in names:
            app.kill()
            _, err = app.communicate(timeout=10)
            raise AssertionError(f"no READY=1 from the app; it said: {err.decode()[-2000:]}")
        ready_at = next(t for t, m in started if m == "READY=1")
        pings = [t for t, m in started if m == "WATCHDOG=1" and t > ready_at]
        assert len(pings) >= 3, f"expected regular WATCHDOG=1 after READY=1, got {names}"
        app.send_signal(signal.SIGUSR1)
        time.sleep(0.5)  # a ping already on its way may still arrive
        _messages(sock, 0.1)
        frozen = _messages(sock, 4.0)
        assert [m for _, m in frozen if m == "WATCHDOG=1"] == []
        assert app.poll() is None, "the app died instead of hanging"
    finally:
        app.kill()
        app.wait(10)
