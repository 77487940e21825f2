"""The network fault lab outside pytest, for benchmarks; run alone it measures the lab itself.

Benchmarks import it as `from _netlab import NetLab` (this directory is first on their path).
`python bench/_netlab.py` (as root) prints one JSON object as its last line: the base round trip,
the round trip with 100 ms one-way delay each way, the time from `restore()` after a 1 s cut to
the first answer, and how many 1200-byte datagrams a second make the round trip through
the wire and an echo server (a 2 Mbit/s video call needs about 200).
"""

from __future__ import annotations

import json
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.netns import NetLab, NetLabError, WireStats

__all__ = ["NetLab", "NetLabError", "WireStats"]

PORT = 9000
_ECHO = (
    "import socket\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)\n"
    f"s.bind(('0.0.0.0', {PORT}))\n"
    "while True:\n"
    "    data, peer = s.recvfrom(2048)\n"
    "    s.sendto(data, peer)\n"
)


def _round_trip(sock: socket.socket, host: str, payload: bytes, timeout_s: float) -> float | None:
    start = time.perf_counter()
    sock.settimeout(timeout_s)
    try:
        sock.sendto(payload, (host, PORT))
        while sock.recv(2048) != payload:
            pass
    except OSError:
        return None
    return time.perf_counter() - start


def _rtts_ms(sock: socket.socket, host: str, count: int) -> list[float]:
    rtts = []
    for i in range(count):
        rtt = _round_trip(sock, host, f"r{i}".encode(), 2.0)
        if rtt is None:
            raise NetLabError(f"expected an echo from {host} within 2 s, got none")
        rtts.append(rtt * 1000)
    return rtts


def _recovery_ms(lab: NetLab, sock: socket.socket, cut_s: float) -> float:
    lab.cut()
    time.sleep(cut_s)
    lab.restore()
    start = time.perf_counter()
    n = 0
    while _round_trip(sock, lab.far_ip, f"c{n}".encode(), 0.005) is None:
        n += 1
        if time.perf_counter() - start > 5:
            raise NetLabError("expected answers again within 5 s of restore, got none")
    return (time.perf_counter() - start) * 1000


def _throughput(lab: NetLab, sock: socket.socket, count: int) -> tuple[float, float, float]:
    """Offered and echoed datagrams a second, and the share lost, for a 1200-byte stream."""
    payload = b"x" * 1196
    sock.settimeout(0.5)
    start = time.perf_counter()
    received = 0
    for i in range(count):
        sock.sendto(i.to_bytes(4, "big") + payload, (lab.far_ip, PORT))
        if i % 16 == 15:
            time.sleep(0.001)
    offered = count / (time.perf_counter() - start)
    try:
        while received < count:
            sock.recv(2048)
            received += 1
    except TimeoutError:
        pass
    elapsed = time.perf_counter() - start - (0.5 if received < count else 0.0)
    return offered, received / elapsed, 1 - received / count


def main() -> None:
    with NetLab() as lab:
        lab.spawn([sys.executable, "-c", _ECHO])
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        deadline = time.monotonic() + 5
        while _round_trip(sock, lab.far_ip, b"hello", 0.05) is None:
            if time.monotonic() > deadline:
                raise NetLabError(f"expected the echo server on {lab.far_ip} within 5 s")
        base = _rtts_ms(sock, lab.far_ip, 50)
        lab.impair(delay_ms=100)
        delayed = _rtts_ms(sock, lab.far_ip, 10)
        lab.clear()
        recoveries = sorted(_recovery_ms(lab, sock, 1.0) for _ in range(10))
        offered, pps, lost = _throughput(lab, sock, 5000)
        sock.close()
    print(
        json.dumps(
            {
                "rtt_base_ms_p50": round(statistics.median(base), 3),
                "rtt_base_ms_max": round(max(base), 3),
                "rtt_delay100_each_way_ms_p50": round(statistics.median(delayed), 1),
                "restore_to_first_answer_ms_p50": round(statistics.median(recoveries), 2),
                "restore_to_first_answer_ms_max": round(recoveries[-1], 2),
                "wire_1200B_offered_per_s": round(offered),
                "wire_1200B_echoed_per_s": round(pps),
                "wire_1200B_loss_share": round(lost, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
