"""Real network faults for tests and benchmarks: a far-end namespace behind a faulty wire.

`NetLab` creates one network namespace for the far end (the conference node) and a
point-to-point link between it and the root namespace, where the test process and the kiosk
engine live. Addresses come from a /30 in 10.231.0.0/16 and are routed nowhere else.

This kernel has no `sch_netem` (CONFIG_NET_SCH_NETEM unset, no loadable modules), so the link
is not a veth pair with netem on it but two TUN devices, one per namespace, joined by a small
"wire" process that copies IP packets between them and applies loss, delay and jitter on the
way. Everything else is the kernel's own: real sockets, real routing, a real link that goes
down and up. The wire needs only CONFIG_TUN, root and iproute2.

- `cut()` sets the root-side link down: the kiosk sees its route vanish and sends fail
  (EHOSTUNREACH), as after a cable pull. A guard route keeps the far address from leaking to
  the default gateway meanwhile. `cut(silent=True)` keeps the link up and lets the wire drop
  everything both ways instead: sends succeed and vanish, as when the network beyond the
  kiosk dies.
- `impair()` sets loss and one-way delay/jitter per direction (both by default, so a
  `delay_ms=100` adds about 200 ms to a round trip and `loss_pct=50` loses about 75 % of
  round trips). Jitter never reorders packets within a direction.
- `spawn()` runs a command inside the far namespace.

Use the `netlab` fixture (function scope) or `with NetLab() as lab:`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import heapq
import ipaddress
import json
import os
import random
import re
import secrets
import select
import selectors
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

Direction = Literal["both", "to_far", "to_near"]

_TUNSETIFF = 0x400454CA
_IFF_TUN = 0x0001
_IFF_NO_PI = 0x1000
_BASE_NET = "10.231"
_GUARD_PROTO = "231"
_NS_PATTERN = re.compile(r"^kn-(\d+)-([0-9a-f]+)$")
_NETNS_DIR = Path("/run/netns")
_LOCK_PATH = Path(tempfile.gettempdir()) / "kiosk-netlab.lock"


class NetLabError(RuntimeError):
    """The lab could not be built, changed or torn down."""


# --------------------------------------------------------------------------- the wire


@dataclass
class _Rule:
    loss: float = 0.0
    delay_s: float = 0.0
    jitter_s: float = 0.0


@dataclass
class _Lane:
    """One direction of the wire."""

    out_fd: int
    rule: _Rule = field(default_factory=_Rule)
    last_due: float = 0.0
    passed: int = 0
    dropped: int = 0


def _wire_main(near_fd: int, far_fd: int) -> int:
    """Copy packets between two TUN fds until stdin closes; commands arrive as JSON lines."""
    rng = random.Random()
    lanes = {near_fd: _Lane(out_fd=far_fd), far_fd: _Lane(out_fd=near_fd)}
    names = {"to_far": near_fd, "to_near": far_fd}
    silent = False
    queue: list[tuple[float, int, int, bytes]] = []
    seq = 0
    pending = b""
    for fd in (near_fd, far_fd, 0):
        os.set_blocking(fd, False)
    selector = selectors.DefaultSelector()
    for fd in (near_fd, far_fd, 0):
        selector.register(fd, selectors.EVENT_READ)

    def reply(payload: Mapping[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    def stats() -> dict[str, Any]:
        return {
            name: {"passed": lanes[fd].passed, "dropped": lanes[fd].dropped}
            for name, fd in names.items()
        }

    def send(fd: int, packet: bytes, lane: _Lane) -> None:
        try:
            os.write(fd, packet)
        except OSError:
            # A TUN that is down refuses writes: that packet is lost, as on a dead link.
            lane.dropped += 1
        else:
            lane.passed += 1

    reply({"ready": True})
    while True:
        timeout = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        for key, _ in selector.select(timeout):
            fd = int(key.fd)
            if fd == 0:
                chunk = os.read(0, 65536)
                if not chunk:
                    return 0
                pending += chunk
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    command = json.loads(line)
                    op = command["op"]
                    if op == "rules":
                        for name, spec in command["rules"].items():
                            lanes[names[name]].rule = _Rule(
                                spec["loss"], spec["delay_s"], spec["jitter_s"]
                            )
                    elif op == "silent":
                        silent = bool(command["on"])
                        if silent:
                            for _, _, in_fd, _ in queue:
                                lanes[in_fd].dropped += 1
                            queue.clear()
                    reply({"ok": op, **stats()})
                continue
            lane = lanes[fd]
            for _ in range(256):
                try:
                    packet = os.read(fd, 65536)
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.EIO):
                        break
                    raise
                rule = lane.rule
                if silent or (rule.loss > 0 and rng.random() < rule.loss):
                    lane.dropped += 1
                    continue
                if rule.delay_s == 0 and rule.jitter_s == 0 and not queue:
                    send(lane.out_fd, packet, lane)
                    continue
                due = time.monotonic() + max(
                    0.0, rule.delay_s + rng.uniform(-rule.jitter_s, rule.jitter_s)
                )
                # FIFO per direction: jitter spreads packets out but never swaps them.
                due = max(due, lane.last_due)
                lane.last_due = due
                seq += 1
                heapq.heappush(queue, (due, seq, fd, packet))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, in_fd, packet = heapq.heappop(queue)
            send(lanes[in_fd].out_fd, packet, lanes[in_fd])


# --------------------------------------------------------------------------- the lab


@dataclass(frozen=True)
class LaneStats:
    passed: int
    dropped: int


@dataclass(frozen=True)
class WireStats:
    """Packets the wire has carried or dropped since the lab started, per direction."""

    to_far: LaneStats
    to_near: LaneStats


def _run(argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(argv), capture_output=True, text=True, timeout=10, check=False)
    if check and done.returncode != 0:
        raise NetLabError(
            f"expected `{' '.join(argv)}` to succeed, it exited {done.returncode}: "
            f"{done.stderr.strip()}"
        )
    return done


def _open_tun(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH22x", name.encode(), _IFF_TUN | _IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


def _check_host() -> None:
    if os.geteuid() != 0:
        raise NetLabError(
            f"expected to run as root (network namespaces), running as uid {os.geteuid()}"
        )
    missing = [tool for tool in ("ip",) if shutil.which(tool) is None]
    if missing:
        raise NetLabError(f"expected {', '.join(missing)} on PATH (apt package iproute2)")
    if not Path("/dev/net/tun").exists():
        raise NetLabError("expected /dev/net/tun (kernel CONFIG_TUN) for the lab's link")


def _process_start(pid: int) -> float | None:
    """Wall-clock start of `pid`, or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            float(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may hold spaces; the fields after its closing parenthesis do not.
    ticks = int(stat.rsplit(")", 1)[1].split()[19])
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _sweep_stale() -> None:
    """Delete namespaces whose owning process is gone, and guard routes nobody uses."""
    if _NETNS_DIR.is_dir():
        for entry in _NETNS_DIR.iterdir():
            match = _NS_PATTERN.match(entry.name)
            if match is None:
                continue
            owner = int(match.group(1))
            created = entry.stat().st_mtime
            started = _process_start(owner)
            # A pid that began after the namespace was made is a reused pid, not the owner.
            alive = started is not None and started <= created + 1.0
            if not alive:
                _run(["ip", "netns", "delete", entry.name], check=False)
    used = _used_octets(addresses_only=True)
    guards = _run(["ip", "-4", "route", "show", "proto", _GUARD_PROTO], check=False).stdout
    for line in guards.splitlines():
        found = re.search(rf"{re.escape(_BASE_NET)}\.(\d+)\.0/30", line)
        if found and int(found.group(1)) not in used:
            _run(["ip", "route", "del", *line.split()], check=False)


def _used_octets(*, addresses_only: bool = False) -> set[int]:
    text = _run(["ip", "-4", "-o", "addr", "show"], check=False).stdout
    if not addresses_only:
        text += _run(["ip", "-4", "route", "show", "table", "all"], check=False).stdout
    return {int(o) for o in re.findall(rf"\b{re.escape(_BASE_NET)}\.(\d+)\.", text)}


@contextlib.contextmanager
def _host_lock() -> Iterator[None]:
    """Serialises address choice and stale sweeps across processes (pytest -n, parallel runs)."""
    with _LOCK_PATH.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class NetLab:
    """A far-end namespace joined to the root namespace by an impairable point-to-point link."""

    def __init__(self, *, ready_timeout_s: float = 5.0) -> None:
        self._ready_timeout_s = ready_timeout_s
        tag = secrets.token_hex(3)
        self.namespace = f"kn-{os.getpid()}-{tag}"
        self.near_ifname = f"kn{tag}n"
        self.far_ifname = f"kn{tag}f"
        self.near_ip = ""
        self.far_ip = ""
        self._subnet = ""
        self._wire: subprocess.Popen[str] | None = None
        self._control = threading.Lock()
        self._spawned: list[subprocess.Popen[bytes]] = []
        self._cut = False
        self._started = False

    # -- lifecycle

    def __enter__(self) -> NetLab:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> NetLab:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Build the namespace, the link and the wire; a failure part-way tears it all down."""
        if self._started:
            raise NetLabError(f"expected a fresh lab, {self.namespace} is already started")
        _check_host()
        self._started = True
        try:
            self._build()
        except BaseException:
            self.close()
            raise

    def _build(self) -> None:
        near_fd = _open_tun(self.near_ifname)
        try:
            far_fd = _open_tun(self.far_ifname)
        except OSError:
            os.close(near_fd)
            raise
        try:
            self._wire = subprocess.Popen(
                [sys.executable, "-I", "-S", os.path.abspath(__file__), str(near_fd), str(far_fd)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                pass_fds=(near_fd, far_fd),
                start_new_session=True,
            )
        finally:
            # The wire holds the devices now; they vanish when it exits, whatever happens here.
            os.close(near_fd)
            os.close(far_fd)
        with _host_lock():
            _sweep_stale()
            _run(["ip", "netns", "add", self.namespace])
            octet = self._pick_octet()
            net = ipaddress.IPv4Network(f"{_BASE_NET}.{octet}.0/30")
            self._subnet = str(net)
            self.near_ip, self.far_ip = (str(h) for h in net.hosts())
            # No IPv6 link-local addresses: no router solicitations or DAD on the wire's counters.
            _run(["ip", "link", "set", self.near_ifname, "addrgenmode", "none"])
            _run(["ip", "addr", "add", self.near_ip, "peer", self.far_ip, "dev", self.near_ifname])
            _run(["ip", "route", "add", "unreachable", self._subnet, "proto", _GUARD_PROTO,
                  "metric", "4000"])  # fmt: skip
        _run(["ip", "link", "set", self.far_ifname, "netns", self.namespace])
        far = ["ip", "-n", self.namespace]
        _run([*far, "link", "set", "lo", "up"])
        _run([*far, "link", "set", self.far_ifname, "addrgenmode", "none"])
        _run([*far, "addr", "add", self.far_ip, "peer", self.near_ip, "dev", self.far_ifname])
        _run([*far, "link", "set", self.far_ifname, "up"])
        _run(["ip", "link", "set", self.near_ifname, "up"])
        self._expect_reply("ready")

    def _pick_octet(self) -> int:
        used = _used_octets()
        free = [o for o in range(256) if o not in used]
        if not free:
            raise NetLabError(f"expected a free /30 in {_BASE_NET}.0.0/16, all 256 are in use")
        return random.choice(free)

    def close(self) -> None:
        """Stop spawned processes and the wire, delete the namespace and the guard route."""
        if not self._started:
            return
        self._started = False
        problems: list[str] = []
        try:
            self.kill_spawned()
        except Exception as exc:  # teardown goes on; the failure is reported below
            problems.append(f"stopping spawned processes: {exc}")
        if self._wire is not None:
            with contextlib.suppress(OSError):
                if self._wire.stdin is not None:
                    self._wire.stdin.close()
            try:
                self._wire.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self._wire.kill()
                self._wire.wait(timeout=3)
            if self._wire.stdout is not None:
                self._wire.stdout.close()
            self._wire = None
        if (_NETNS_DIR / self.namespace).exists():
            done = _run(["ip", "netns", "delete", self.namespace], check=False)
            if done.returncode != 0:
                problems.append(f"deleting {self.namespace}: {done.stderr.strip()}")
        if self._subnet:
            _run(["ip", "route", "del", "unreachable", self._subnet, "proto", _GUARD_PROTO,
                  "metric", "4000"], check=False)  # fmt: skip
        if problems:
            raise NetLabError("lab teardown was incomplete: " + "; ".join(problems))

    # -- faults

    def cut(self, *, silent: bool = False) -> None:
        """Stop all traffic both ways: link down (default), or the wire drops it (`silent`)."""
        self._require_started()
        if silent:
            self._command({"op": "silent", "on": True})
        else:
            _run(["ip", "link", "set", self.near_ifname, "down"])
        self._cut = True

    def restore(self) -> None:
        """Undo `cut()`, whichever kind; the peer route comes back with the link."""
        self._require_started()
        self._command({"op": "silent", "on": False})
        _run(["ip", "link", "set", self.near_ifname, "up"])
        routes = _run(["ip", "-4", "route", "show", "dev", self.near_ifname]).stdout
        if self.far_ip not in routes:
            addrs = _run(["ip", "-4", "-o", "addr", "show", "dev", self.near_ifname]).stdout
            if self.near_ip not in addrs:
                _run(["ip", "addr", "add", self.near_ip, "peer", self.far_ip,
                      "dev", self.near_ifname])  # fmt: skip
            else:
                _run(["ip", "route", "replace", self.far_ip, "dev", self.near_ifname,
                      "src", self.near_ip])  # fmt: skip
        self._cut = False

    def impair(
        self,
        loss_pct: float = 0.0,
        delay_ms: float = 0.0,
        jitter_ms: float = 0.0,
        *,
        direction: Direction = "both",
    ) -> None:
        """Lose `loss_pct` % of packets and delay each by `delay_ms` ± `jitter_ms` one way.

        Replaces any earlier impairment of the chosen direction(s); the other keeps its own.
        """
        self._require_started()
        if not 0.0 <= loss_pct <= 100.0:
            raise NetLabError(f"expected loss_pct within 0..100, got {loss_pct}")
        if delay_ms < 0 or jitter_ms < 0:
            raise NetLabError(
                f"expected delay_ms and jitter_ms >= 0, got {delay_ms} and {jitter_ms}"
            )
        if direction not in ("both", "to_far", "to_near"):
            raise NetLabError(f"expected direction both, to_far or to_near, got {direction!r}")
        rule = {
            "loss": loss_pct / 100.0,
            "delay_s": delay_ms / 1000.0,
            "jitter_s": jitter_ms / 1000.0,
        }
        names = ("to_far", "to_near") if direction == "both" else (direction,)
        self._command({"op": "rules", "rules": {name: rule for name in names}})

    def clear(self) -> None:
        """Remove all loss and delay, both ways (a cut stays cut)."""
        self.impair()

    def stats(self) -> WireStats:
        reply = self._command({"op": "stats"})
        return WireStats(to_far=LaneStats(**reply["to_far"]), to_near=LaneStats(**reply["to_near"]))

    @property
    def is_cut(self) -> bool:
        return self._cut

    # -- processes in the far namespace

    def spawn(
        self,
        argv: Sequence[str],
        env: Mapping[str, str] | None = None,
        *,
        stdin: int | IO[Any] | None = subprocess.DEVNULL,
        stdout: int | IO[Any] | None = None,
        stderr: int | IO[Any] | None = None,
        cwd: str | os.PathLike[str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `argv` inside the far namespace; `env` is added to this process's environment."""
        self._require_started()
        process = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, *argv],
            env={**os.environ, **env} if env is not None else None,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=cwd,
            start_new_session=True,
        )
        self._spawned.append(process)
        return process

    def run(self, argv: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a short command inside the far namespace and return its output."""
        self._require_started()
        return _run(["ip", "netns", "exec", self.namespace, *argv], check=check)

    def kill_spawned(self, timeout_s: float = 3.0) -> None:
        """SIGTERM every spawned process group, SIGKILL what is left after `timeout_s`."""
        spawned, self._spawned = self._spawned, []
        for process in spawned:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        for process in spawned:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=timeout_s)

    # -- control channel

    def _require_started(self) -> None:
        if not self._started or self._wire is None:
            raise NetLabError(f"expected a started lab, {self.namespace} is not running")

    def _command(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        self._require_started()
        assert self._wire is not None and self._wire.stdin is not None
        with self._control:
            try:
                self._wire.stdin.write(json.dumps(payload) + "\n")
                self._wire.stdin.flush()
            except BrokenPipeError as exc:
                raise NetLabError(
                    f"expected the wire of {self.namespace} to take {payload['op']!r}, "
                    "it has exited"
                ) from exc
            return self._expect_reply("ok")

    def _expect_reply(self, key: str) -> dict[str, Any]:
        assert self._wire is not None and self._wire.stdout is not None
        ready, _, _ = select.select([self._wire.stdout], [], [], self._ready_timeout_s)
        line = self._wire.stdout.readline() if ready else ""
        if not line:
            code = self._wire.poll()
            came = "nothing" if code is None else f"exit code {code}"
            raise NetLabError(
                f"expected a {key!r} reply from the wire of {self.namespace} within "
                f"{self._ready_timeout_s} s, got {came}"
            )
        reply: dict[str, Any] = json.loads(line)
        if key not in reply:
            raise NetLabError(f"expected a {key!r} reply from the wire, got {reply}")
        return reply


if __name__ == "__main__":
    sys.exit(_wire_main(int(sys.argv[1]), int(sys.argv[2])))

# The wire process above starts from this file and must not pay for importing pytest.
import pytest  # noqa: E402


@pytest.fixture
def netlab() -> Iterator[NetLab]:
    """A started `NetLab`, torn down after the test whatever its outcome."""
    with NetLab() as lab:
        yield lab
