"""The terminal as it really runs: `kiosk run` as a separate process started the way
systemd/etc/systemd/system/kiosk.service starts it (its environment, a notify socket the test
reads, HOME and XDG_* in a fresh runtime directory), under Xvfb with PulseAudio null sinks and
the echo canceller, driven by real taps and key presses from xdotool into the virtual screen."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kiosk.cli.demo import DEMO_ROOM
from kiosk.fleet.ctl import ctl_request
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.refnode.server import RefNode
from tests.support.pulse import PulseServer
from tests.support.room import Room, room
from tests.support.xvfb import xvfb_display

__all__ = ["room", "xvfb_display"]

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd/etc/systemd/system/kiosk.service"
WIDTH, HEIGHT = 1280, 800
WATCHDOG_USEC = 2_000_000

def unit_environment(runtime: Path) -> dict[str, str]:
    """The unit's Environment= lines, with its runtime directory moved to `runtime`."""
    env: dict[str, str] = {}
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            key, _, value = line.removeprefix("Environment=").partition("=")
            env[key] = value.replace("/run/kiosk", str(runtime))
    assert {"HOME", "XDG_RUNTIME_DIR", "KIVY_HOME"} <= env.keys(), env
    return env


@dataclass
class NotifyListener:
    """The notify socket systemd would read: every datagram, with when it came."""

    path: Path
    messages: list[tuple[float, str]] = field(default_factory=list)
    _sock: socket.socket | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            now = time.monotonic()
            self.messages.extend((now, line) for line in data.decode().splitlines())

    def names(self) -> list[str]:
        return [m for _, m in self.messages]

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()


@dataclass
class Terminal:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    ctl_socket: Path
    notify: NotifyListener
    display: str
    shots: Path

    def ctl(self, *args: str) -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, "-m", "kiosk", "ctl", "--socket", str(self.ctl_socket), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
        reply: dict[str, object] = json.loads(done.stdout)
        return reply

    def phase(self) -> str:
        # Polled in-process over the same socket; the CLI itself is exercised by ctl().
        reply = asyncio.run(ctl_request(self.ctl_socket, {"cmd": "status"}, lambda _e: None))
        return str(reply["result"]["phase"])

    def tap_until(self, x: float, y: float, phase: str, timeout: float = 20) -> None:
        """Tap until the screen moves on; the very first tap after start-up can land before
        the window takes input."""
        before = self.phase()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.tap(x, y)
            try:
                self.wait_phase(phase, 3)
                return
            except AssertionError:
                if self.phase() != before:
                    raise
        self.wait_phase(phase, 0.1)

    def wait_phase(self, phase: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"kiosk run exited ({self.process.returncode})"
            seen = self.phase()
            if seen == phase:
                return
            time.sleep(0.2)
        self.screenshot(f"stuck-in-{seen}")
        raise AssertionError(f"expected phase {phase} within {timeout} s, still {seen}")

    def xdotool(self, *args: str) -> None:
        subprocess.run(
            ["xdotool", *args], env={**os.environ, "DISPLAY": self.display}, check=True, timeout=10
        )

    def tap(self, x: float, y: float) -> None:
        """A tap at a fraction of the window (0,0 top left), through the X server."""
        self.xdotool("mousemove", str(int(x * WIDTH)), str(int(y * HEIGHT)), "click", "1")

    def type_keys(self, text: str) -> None:
        self.xdotool("type", "--delay", "80", text)

    def screenshot(self, name: str) -> Path:
        from PIL import ImageGrab

        path = self.shots / f"{len(list(self.shots.iterdir())):02d}-{name}.png"
        ImageGrab.grab(bbox=(0, 0, WIDTH, HEIGHT), xdisplay=self.display).save(path)
        return path


@pytest.fixture
def node() -> Iterator[tuple[RefNode, str]]:
    """The conference node and a practitioner who admits, on their own loop in a thread, so
    the test can block on the terminal while they answer."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    refnode = RefNode([DEMO_ROOM], waiting_timeout_s=900)
    base_url = run(refnode.start("127.0.0.1", 0))
    bot = PractitionerBot(base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin, admit_after_s=0.5)
    run(bot.start())
    try:
        yield refnode, base_url
    finally:
        run(bot.leave())
        run(refnode.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def terminal(
    node: tuple[RefNode, str],
    xvfb_display: str,
    room: Room,
    tmp_path: Path,
) -> Iterator[Terminal]:
    _, base_url = node
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "kiosk.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            node_url = "{base_url}"
            allowed_hosts = ["127.0.0.1"]
            clinic_phone = "22 22 22 22"
            camera = "synthetic"
            speaker = "{room.speaker}"
            microphone = "{room.raw_microphone}"
            management_port = {_free_port()}
            ctl_socket = "{runtime / "ctl.sock"}"
            """
        )
    )
    notify = NotifyListener(tmp_path / "notify.sock")
    notify.start()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        **unit_environment(runtime),
        # Only the display differs from the unit: Xvfb here, KMS/DRM on the terminal.
        "SDL_VIDEODRIVER": "x11",
        "DISPLAY": xvfb_display,
        "PULSE_SERVER": room.pulse.server,
        "KIOSK_CONFIG": str(config),
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "KCFG_GRAPHICS_WIDTH": str(WIDTH),
        "KCFG_GRAPHICS_HEIGHT": str(HEIGHT),
        "KCFG_GRAPHICS_POSITION": "custom",
        "KCFG_GRAPHICS_LEFT": "0",
        "KCFG_GRAPHICS_TOP": "0",
    }
    shots = ROOT / "artifacts" / "terminal-service"
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    log = (tmp_path / "kiosk.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run"],
        env=env,
        cwd=runtime,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def copy_log() -> None:
        # The journal stamps each line; so does this copy, for reading the stop's timing.
        assert process.stdout is not None
        for raw in process.stdout:
            log.write(f"{time.monotonic():.3f} {raw.decode(errors='replace')}")
            log.flush()

    copier = threading.Thread(target=copy_log, daemon=True)
    copier.start()
    term = Terminal(process, env, runtime / "ctl.sock", notify, xvfb_display, shots)
    try:
        deadline = time.monotonic() + 60
        while "READY=1" not in notify.names() and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "kiosk.log").read_text()[-3000:]
            time.sleep(0.1)
        assert "READY=1" in notify.names(), (tmp_path / "kiosk.log").read_text()[-3000:]
        yield term
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        copier.join(10)
        log.close()
        notify.close()
        shutil.copy(tmp_path / "kiosk.log", shots / "kiosk.log")


def _into_a_call(term: Terminal) -> None:
    term.screenshot("start-screen")
    term.tap_until(0.5, 0.5, "number")
    term.type_keys(DEMO_ROOM.alias)
    term.screenshot("number-typed")
    term.xdotool("key", "Return")
    term.wait_phase("checks", 10)
    time.sleep(3)  # the picture checks need a few analyses before "Knock" leads anywhere
    term.screenshot("checks")
    # "Knock" is the last of the three buttons along the bottom of the check screen.
    term.tap(0.83, 1 - 82 / HEIGHT)
    term.wait_phase("in_call", 30)
    term.screenshot("in-call")


def _echo_modules(pulse: PulseServer) -> list[str]:
    return [line for line in pulse.pactl("list", "modules", "short").splitlines() if "echo" in line]


def test_sigterm_in_a_call_leaves_the_conference_and_exits_within_two_seconds(
    terminal: Terminal, node: tuple[RefNode, str], room: Room
) -> None:
    refnode, _ = node
    conference = refnode.room(DEMO_ROOM.alias)
    pid = terminal.process.pid
    assert _echo_modules(room.pulse), "the echo canceller was not loaded"
    _into_a_call(terminal)
    status = terminal.ctl("status")
    # Under load the media watch may already be rebuilding the call; either is "in a call".
    assert status["phase"] in ("in_call", "reconnecting"), status
    assert status["observer_failures"] == 0
    kiosk_uuids = [uuid for kind, uuid, what in conference.journal if kind == "join" and what != ""]
    assert terminal.process.pid == pid
    sent_at = time.monotonic()
    terminal.process.send_signal(signal.SIGTERM)
    code = terminal.process.wait(10)
    took = time.monotonic() - sent_at
    assert code == 0
    assert took <= 2.0, f"kiosk run took {took:.2f} s to stop (signal at {sent_at:.3f})"
    leaves = [(uuid, why) for kind, uuid, why in conference.journal if kind == "leave"]
    assert any(why.startswith("released token") for _, why in leaves), (leaves, kiosk_uuids)
    names = terminal.notify.names()
    assert names.index("READY=1") < names.index("STOPPING=1")
    stopping_at = next(t for t, m in terminal.notify.messages if m == "STOPPING=1")
    assert sent_at < stopping_at < sent_at + took
    pings = [t for t, m in terminal.notify.messages if m == "WATCHDOG=1"]
    assert len(pings) >= 3
    assert max(b - a for a, b in itertools.pairwise(pings)) < WATCHDOG_USEC / 1e6
    assert _echo_modules(room.pulse) == [], "the echo canceller stayed loaded"
