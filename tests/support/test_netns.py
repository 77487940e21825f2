"""The fault lab against real sockets: echo servers in the far namespace, probes from the root."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from tests.support.netns import NetLab, NetLabError, WireStats
from tests.support.netns import netlab as netlab

PORT = 9000

# UDP echo prefixed with "echo:", TCP echo of each chunk; one process, both in the far namespace.
_ECHO = f"""
import socket, threading
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("0.0.0.0", {PORT}))
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("0.0.0.0", {PORT}))
tcp.listen(8)
def serve(conn):
    with conn:
        while data := conn.recv(4096):
            conn.sendall(data)
def accept():
    while True:
        threading.Thread(target=serve, args=(tcp.accept()[0],), daemon=True).start()
threading.Thread(target=accept, daemon=True).start()
while True:
    data, peer = udp.recvfrom(2048)
    udp.sendto(b"echo:" + data, peer)
"""


@pytest.fixture
def echo(netlab: NetLab) -> Iterator[NetLab]:
    """The lab with an echo server answering on the far address."""
    netlab.spawn([sys.executable, "-c", _ECHO])
    probe = _udp()
    try:
        deadline = time.monotonic() + 5.0
        while _probe(probe, netlab.far_ip, b"hello", 0.05) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected the echo server on {netlab.far_ip} within 5 s")
    finally:
        probe.close()
    yield netlab


def _udp() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _probe(sock: socket.socket, host: str, payload: bytes, timeout_s: float) -> bytes | None:
    """One UDP round trip: the answer, or None when it does not come in time or cannot go."""
    sock.settimeout(timeout_s)
    try:
        sock.sendto(payload, (host, PORT))
        deadline = time.monotonic() + timeout_s
        while True:
            sock.settimeout(max(0.001, deadline - time.monotonic()))
            data = sock.recv(2048)
            if data == b"echo:" + payload:
                return data
    except (TimeoutError, OSError):
        return None


def _rtt_ms(host: str, count: int = 5) -> list[float]:
    sock = _udp()
    try:
        rtts = []
        for i in range(count):
            start = time.perf_counter()
            assert _probe(sock, host, f"rtt{i}".encode(), 2.0) is not None
            rtts.append((time.perf_counter() - start) * 1000)
        return rtts
    finally:
        sock.close()


def _burst_answered(host: str, count: int, spacing_s: float = 0.0005) -> list[int]:
    """Send `count` numbered probes, then collect answers; the numbers in arrival order."""
    sock = _udp()
    try:
        for i in range(count):
            sock.sendto(f"n{i}".encode(), (host, PORT))
            time.sleep(spacing_s)
        got: list[int] = []
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            while True:
                got.append(int(sock.recv(2048).removeprefix(b"echo:n")))
        return got
    finally:
        sock.close()


def _tcp_connect(host: str, timeout_s: float) -> str:
    """What a TCP connect to the echo port ends in: 'echoed', 'timeout' or the errno name."""
    try:
        with socket.create_connection((host, PORT), timeout=timeout_s) as conn:
            conn.sendall(b"ping")
            return "echoed" if conn.recv(16) == b"ping" else "garbled"
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))


def _far_sends_to_near(lab: NetLab, listener: socket.socket) -> bytes | None:
    """A datagram from inside the far namespace to the root side; what the root receives."""
    port = listener.getsockname()[1]
    lab.run(
        [
            sys.executable,
            "-c",
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM);"
            f"s.sendto(b'from-far', ({lab.near_ip!r}, {port}))",
        ],
        check=False,
    )
    listener.settimeout(0.2)
    try:
        return listener.recv(64)
    except TimeoutError:
        return None


def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


def test_far_end_is_reachable_over_its_own_link_only(echo: NetLab) -> None:
    lab = echo
    assert lab.namespace.startswith("kn-")
    assert lab.near_ip.startswith("10.231.") and lab.far_ip.startswith("10.231.")
    assert f"dev {lab.near_ifname}" in _ip("route", "get", lab.far_ip)
    assert _tcp_connect(lab.far_ip, 1.0) == "echoed"
    # The far namespace knows only its peer: nothing it sends can leave through the host.
    far_routes = [r.strip() for r in lab.run(["ip", "-4", "route"]).stdout.splitlines()]
    assert far_routes == [
        f"{lab.near_ip} dev {lab.far_ifname} proto kernel scope link src {lab.far_ip}"
    ]


def test_cut_stops_both_ways_and_restore_brings_traffic_back_fast(echo: NetLab) -> None:
    lab = echo
    probe = _udp()
    listener = _udp()
    listener.bind((lab.near_ip, 0))
    try:
        history = [("up", _probe(probe, lab.far_ip, b"a", 0.5) is not None)]
        history.append(("up far->near", _far_sends_to_near(lab, listener) == b"from-far"))
        before = lab.stats()

        lab.cut()
        assert lab.is_cut
        history.append(("cut", _probe(probe, lab.far_ip, b"b", 0.3) is not None))
        history.append(("cut tcp", _tcp_connect(lab.far_ip, 0.5) == "echoed"))
        history.append(("cut far->near", _far_sends_to_near(lab, listener) is not None))
        # Nothing may leave by the default route meanwhile: the lab's guard route refuses it.
        route = subprocess.run(
            ["ip", "route", "get", lab.far_ip], capture_output=True, text=True, check=False
        )
        assert (route.returncode, route.stderr.strip()) == (
            2,
            "RTNETLINK answers: No route to host",
        )
        assert _tcp_connect(lab.far_ip, 0.5) == "EHOSTUNREACH"
        during = lab.stats()

        lab.restore()
        start = time.perf_counter()
        while _probe(probe, lab.far_ip, b"c", 0.01) is None:
            assert time.perf_counter() - start < 2.0, "expected an answer within 2 s of restore"
        first_answer_s = time.perf_counter() - start
        history.append(("restored", True))
        history.append(("restored tcp", _tcp_connect(lab.far_ip, 1.0) == "echoed"))
        history.append(("restored far->near", _far_sends_to_near(lab, listener) == b"from-far"))
    finally:
        probe.close()
        listener.close()

    assert history == [
        ("up", True),
        ("up far->near", True),
        ("cut", False),
        ("cut tcp", False),
        ("cut far->near", False),
        ("restored", True),
        ("restored tcp", True),
        ("restored far->near", True),
    ]
    assert not lab.is_cut
    assert first_answer_s < 0.3, f"first answer {first_answer_s * 1000:.0f} ms after restore"
    # The far side's datagram reached the wire and died at the downed root-side link.
    assert during.to_near.dropped > before.to_near.dropped


def test_silent_cut_swallows_packets_without_errors(echo: NetLab) -> None:
    lab = echo
    listener = _udp()
    listener.bind((lab.near_ip, 0))
    probe = _udp()
    try:
        lab.cut(silent=True)
        before = lab.stats()
        history = [
            _probe(probe, lab.far_ip, b"s", 0.3) is not None,
            _tcp_connect(lab.far_ip, 0.5),
            _far_sends_to_near(lab, listener) is not None,
        ]
        after = lab.stats()
        lab.restore()
        history.append(_tcp_connect(lab.far_ip, 1.0))
    finally:
        listener.close()
        probe.close()
    # The kiosk sees no error at all, only silence, then the link works again.
    assert history == [False, "timeout", False, "echoed"]
    assert after.to_far.dropped > before.to_far.dropped
    assert after.to_near.dropped > before.to_near.dropped
    assert after.to_far.passed == before.to_far.passed
    assert after.to_near.passed == before.to_near.passed


def test_loss_drops_about_the_share_asked_for(echo: NetLab) -> None:
    lab = echo
    lab.impair(loss_pct=50, direction="to_far")
    one_way = 200 - len(set(_burst_answered(lab.far_ip, 200)))
    lab.impair(loss_pct=50)
    both_ways = 200 - len(set(_burst_answered(lab.far_ip, 200)))
    lab.clear()
    cleared = 200 - len(set(_burst_answered(lab.far_ip, 200)))
    # Binomial(200, p): the bands are more than four standard deviations wide.
    assert 70 <= one_way <= 130, f"{one_way} of 200 lost at 50 % one way"
    assert 120 <= both_ways <= 175, f"{both_ways} of 200 lost at 50 % each way"
    assert cleared == 0


def test_delay_and_jitter_add_to_the_round_trip_and_keep_order(echo: NetLab) -> None:
    lab = echo
    base = statistics.median(_rtt_ms(lab.far_ip))
    lab.impair(delay_ms=100)
    both = _rtt_ms(lab.far_ip)
    lab.impair(delay_ms=100, direction="to_near")
    lab.impair(direction="to_far")
    one = _rtt_ms(lab.far_ip)
    lab.impair(delay_ms=40, jitter_ms=30)
    jittered = _rtt_ms(lab.far_ip, count=10)
    order = _burst_answered(lab.far_ip, 60, spacing_s=0.002)
    lab.clear()
    cleared = _rtt_ms(lab.far_ip)

    assert base < 20
    assert all(200 <= r < 300 for r in both), both
    assert all(100 <= r < 200 for r in one), one
    assert all(20 <= r < 160 for r in jittered), jittered
    assert max(jittered) - min(jittered) > 5, jittered
    assert order == list(range(60)), "jitter reordered packets"
    assert all(r < 20 for r in cleared), cleared


def test_teardown_removes_namespace_link_route_and_processes() -> None:
    with pytest.raises(RuntimeError, match="boom"), NetLab() as lab:
        child = lab.spawn(["sleep", "60"])
        assert lab.namespace in _ip("netns", "list")
        raise RuntimeError("boom")
    assert child.poll() is not None
    assert lab.namespace not in _ip("netns", "list")
    assert lab.near_ifname not in _ip("link")
    assert lab.near_ip.rsplit(".", 1)[0] + ".0/30" not in _ip("route", "show", "proto", "231")
    with pytest.raises(NetLabError, match="expected a started lab"):
        lab.cut()


def test_stale_namespaces_of_dead_owners_are_swept_and_live_ones_kept() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = f"kn-{gone.pid}-abcdef"
    alive = "kn-1-abcdef"  # pid 1 outlives any namespace made here
    for name in (stale, alive):
        subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        with NetLab():
            listed = _ip("netns", "list")
    finally:
        for name in (stale, alive):
            subprocess.run(["ip", "netns", "delete", name], check=False, capture_output=True)
    assert stale not in listed
    assert alive in listed


def test_two_labs_get_separate_subnets_and_namespaces() -> None:
    with NetLab() as first, NetLab() as second:
        assert first.namespace != second.namespace
        assert first.near_ip.rsplit(".", 1)[0] != second.near_ip.rsplit(".", 1)[0]


def test_bad_impairments_are_refused_and_change_nothing(echo: NetLab) -> None:
    netlab = echo
    netlab.impair(delay_ms=10)
    for kwargs, message in [
        ({"loss_pct": 101}, "loss_pct within 0..100, got 101"),
        ({"delay_ms": -1}, "delay_ms and jitter_ms >= 0, got -1"),
        ({"direction": "sideways"}, "direction both, to_far or to_near, got 'sideways'"),
    ]:
        with pytest.raises(NetLabError, match=message):
            netlab.impair(**kwargs)  # type: ignore[arg-type]
    assert all(20 <= r < 100 for r in _rtt_ms(netlab.far_ip)), "the 10 ms delay was lost"
    assert isinstance(netlab.stats(), WireStats)


# An aiortc peer in the far namespace: takes an offer on stdin, answers on stdout, echoes
# data-channel messages back with a prefix.
_FAR_PEER = """
import asyncio, json, sys
from aiortc import RTCPeerConnection, RTCSessionDescription

async def main():
    pc = RTCPeerConnection()

    @pc.on("datachannel")
    def on_channel(channel):
        channel.on("message", lambda message: channel.send("far:" + message))

    offer = json.loads(await asyncio.to_thread(sys.stdin.readline))
    await pc.setRemoteDescription(RTCSessionDescription(**offer))
    await pc.setLocalDescription(await pc.createAnswer())
    print(json.dumps({"sdp": pc.localDescription.sdp, "type": "answer"}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    await pc.close()

asyncio.run(main())
"""


async def test_aiortc_peers_connect_across_the_lab_and_survive_a_cut(netlab: NetLab) -> None:
    far = netlab.spawn(
        [sys.executable, "-c", _FAR_PEER], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert far.stdin is not None and far.stdout is not None
    pc = RTCPeerConnection()
    channel = pc.createDataChannel("probe")
    replies: asyncio.Queue[str] = asyncio.Queue()
    channel.on("message", replies.put_nowait)
    opened = asyncio.Event()
    channel.on("open", opened.set)
    states: list[str] = []
    pc.on("connectionstatechange", lambda: states.append(pc.connectionState))
    try:
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"sdp": pc.localDescription.sdp, "type": "offer"}
        far.stdin.write(json.dumps(offer).encode() + b"\n")
        far.stdin.flush()
        answer = json.loads(await asyncio.wait_for(asyncio.to_thread(far.stdout.readline), 20))
        await pc.setRemoteDescription(RTCSessionDescription(**answer))
        await asyncio.wait_for(opened.wait(), 10)
        assert pc.sctp is not None
        local = pc.sctp.transport.transport.iceGatherer.getLocalCandidates()
        assert netlab.near_ip in {c.ip for c in local}

        channel.send("one")
        history = [await asyncio.wait_for(replies.get(), 5)]
        netlab.cut(silent=True)
        channel.send("two")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(replies.get(), 1.0)
        history.append("silence")
        netlab.restore()
        # SCTP retransmits on its own timer (up to a few seconds after a 1 s gap).
        history.append(await asyncio.wait_for(replies.get(), 10))
    finally:
        await pc.close()
        with contextlib.suppress(OSError):
            far.stdin.write(b"\n")
            far.stdin.close()
        # Ends the far peer even if it never answered, so no reader thread is left blocked on
        # its output (the event loop would wait for that thread forever when it closes).
        far.kill()
        far.wait(5)
    assert history == ["far:one", "silence", "far:two"]
    # A one-second silence is far below aiortc's consent timeout: the call never noticed.
    assert states == ["connecting", "connected", "closed"]
