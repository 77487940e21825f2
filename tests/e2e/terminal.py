"""`kiosk run` as systemd starts it, and what the tests need around it: the unit's environment,
the notify socket systemd would read, taps and keys through the X server, screenshots, the
control socket, an HTTPS server for signed configuration bundles and a real Prometheus."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import itertools
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.fleet.ctl import ctl_request

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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

    def longest_watchdog_gap(self) -> float:
        pings = [t for t, m in self.messages if m == "WATCHDOG=1"]
        assert len(pings) >= 2, "expected WATCHDOG=1 pings"
        return max(b - a for a, b in itertools.pairwise(pings))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()


@dataclass
class Terminal:
    """The running `kiosk run` process and the ways a test reaches it."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    ctl_socket: Path
    notify: NotifyListener
    display: str
    shots: Path
    log: Path

    def ctl(self, *args: str) -> dict[str, Any]:
        done = self.ctl_command(*args).communicate(timeout=30)
        out = done[0].decode()
        reply: dict[str, Any] = json.loads(out)
        return reply

    def ctl_command(self, *args: str) -> subprocess.Popen[bytes]:
        """`kiosk ctl ...` as IT runs it, in the background."""
        return subprocess.Popen(
            [sys.executable, "-m", "kiosk", "ctl", "--socket", str(self.ctl_socket), *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def phase(self) -> str:
        # Polled in-process over the same socket; the CLI itself is exercised by ctl().
        reply = asyncio.run(ctl_request(self.ctl_socket, {"cmd": "status"}, lambda _e: None))
        return str(reply["result"]["phase"])

    def alive(self) -> None:
        assert self.process.poll() is None, f"kiosk run exited ({self.process.returncode})"

    def wait_phase(self, phase: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        seen = ""
        while time.monotonic() < deadline:
            self.alive()
            seen = self.phase()
            if seen == phase:
                return
            time.sleep(0.2)
        self.screenshot(f"stuck-in-{seen}")
        raise AssertionError(f"expected phase {phase} within {timeout} s, still {seen}")

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

    def xdotool(self, *args: str) -> None:
        subprocess.run(
            ["xdotool", *args], env={**os.environ, "DISPLAY": self.display}, check=True, timeout=10
        )

    def _at(self, x: float, y: float) -> tuple[str, str]:
        return str(int(x * WIDTH)), str(int(y * HEIGHT))

    def tap_in(self, phase: str, x: float, y: float, timeout: float = 30) -> None:
        """A tap on a control of `phase`'s screen, once that screen shows: a tap that lands
        on whatever screen replaced it would be another control."""
        self.wait_phase(phase, timeout)
        self.tap(x, y)

    def tap(self, x: float, y: float) -> None:
        """A tap at a fraction of the window (0,0 top left), through the X server."""
        self.xdotool("mousemove", *self._at(x, y), "click", "1")

    def hold(self, x: float, y: float, seconds: float) -> None:
        """A finger held down (the staff corners want three seconds)."""
        self.xdotool("mousemove", *self._at(x, y), "mousedown", "1")
        time.sleep(seconds)
        self.xdotool("mouseup", "1")

    def type_keys(self, text: str) -> None:
        self.xdotool("type", "--delay", "80", text)

    def key(self, name: str) -> None:
        self.xdotool("key", name)

    def screenshot(self, name: str) -> Path:
        from PIL import ImageGrab

        path = self.shots / f"{len(list(self.shots.glob('*.png'))):02d}-{name}.png"
        ImageGrab.grab(bbox=(0, 0, WIDTH, HEIGHT), xdisplay=self.display).save(path)
        return path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def kiosk_run(
    env_extra: dict[str, str],
    *,
    runtime: Path,
    ctl_socket: Path,
    display: str,
    shots: Path,
    work: Path,
) -> Iterator[Terminal]:
    """Start `kiosk run` with the unit's environment plus `env_extra`, wait for READY=1, and
    kill it on the way out if the test did not stop it."""
    notify = NotifyListener(work / "notify.sock")
    notify.start()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        **unit_environment(runtime),
        # Only the display differs from the unit: Xvfb here, KMS/DRM on the terminal.
        "SDL_VIDEODRIVER": "x11",
        "DISPLAY": display,
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "KCFG_GRAPHICS_WIDTH": str(WIDTH),
        "KCFG_GRAPHICS_HEIGHT": str(HEIGHT),
        "KCFG_GRAPHICS_POSITION": "custom",
        "KCFG_GRAPHICS_LEFT": "0",
        "KCFG_GRAPHICS_TOP": "0",
        **env_extra,
    }
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    log_path = work / "kiosk.log"
    log = log_path.open("w")
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
    term = Terminal(process, env, ctl_socket, notify, display, shots, log_path)
    try:
        deadline = time.monotonic() + 60
        while "READY=1" not in notify.names() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.1)
        assert "READY=1" in notify.names(), log_path.read_text()[-3000:]
        yield term
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        copier.join(10)
        log.close()
        notify.close()
        shutil.copy(log_path, shots / "kiosk.log")


class BundleServer:
    """The fleet's configuration server: one bundle file over HTTPS with a test CA."""

    def __init__(self, directory: Path, context: ssl.SSLContext) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        served = directory

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(served), **kwargs)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"https://127.0.0.1:{self.port}/{name}"

    def publish(self, name: str, data: bytes) -> None:
        partial = self.directory / (name + ".partial")
        partial.write_bytes(data)
        partial.rename(self.directory / name)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class Prometheus:
    """Debian's Prometheus scraping one target every second, with its HTTP API on loopback."""

    def __init__(self, target: str, work: Path) -> None:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is missing: Debian's package is in the Makefile"
        self._dir = Path(tempfile.mkdtemp(prefix="kiosk-prom-", dir=work))
        config = self._dir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: kiosk\n"
            f"    static_configs:\n      - targets: ['{target}']\n"
        )
        self.port = free_port()
        self._log = (self._dir / "prometheus.log").open("w")
        self._process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self._dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr}
        )
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        try:
            result = self.query(expr)
        except OSError:
            return None
        return float(result[0]["value"][1]) if result else None

    def wait_value(self, expr: str, wanted: float, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.value(expr)
            if seen == wanted:
                return
            time.sleep(0.5)
        raise AssertionError(f"expected {expr} = {wanted} in Prometheus, got {seen}")

    def close(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)
