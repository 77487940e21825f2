"""Can the kiosk reach its conference node, how fast, and its TURN server?

What is measured, honestly: the node's status URL is fetched a few times on one kept-alive
connection; the first fetch (connection and TLS setup) is reported apart, and the rest give the
HTTP round-trip time (network round trip plus the node's own handling) and how many fetches
got no answer within a second. That is not packet loss: TCP hides loss by retransmitting, so
one fetch without an answer already means a poor link, and it is graded more harshly than the
packet-loss percentages the reference thresholds quote.
Thresholds (reference: Twilio, Daily, testRTC): RTT <= 250 ms good, <= 600 ms usable, jitter
<= 30 ms good; no TURN answer while TURN is configured fails.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence

from kiosk.base.status import CheckStatus
from kiosk.checks.turn import TurnTarget, probe_turn
from kiosk.checks.verdict import CheckResult, History

StatusProbe = Callable[[], Awaitable[None]]

FETCHES = 6
SPACING_S = 0.05
FETCH_TIMEOUT_S = 1.0
GOOD_RTT_MS = 250.0
USABLE_RTT_MS = 600.0
GOOD_JITTER_MS = 30.0
FAIL_UNANSWERED_SHARE = 1 / 3
REPEAT_S = 5.0


class NodeRefused(Exception):
    """The node's address is not one the kiosk may talk to (allow-list)."""


async def _timed(probe: StatusProbe) -> float:
    started = time.monotonic()
    async with asyncio.timeout(FETCH_TIMEOUT_S):
        await probe()
    return (time.monotonic() - started) * 1000.0


async def measure_node(probe: StatusProbe, fetches: int = FETCHES) -> CheckResult:
    try:
        connect_ms = await _timed(probe)
    except NodeRefused:
        return CheckResult("network", CheckStatus.FAIL, "network.host_not_allowed")
    except Exception:  # any failure to get an answer is what this check reports
        return CheckResult("network", CheckStatus.FAIL, "network.node_unreachable")
    rtts: list[float] = []
    unanswered = 0
    for _ in range(fetches - 1):
        await asyncio.sleep(SPACING_S)
        try:
            rtts.append(await _timed(probe))
        except Exception:
            unanswered += 1
    share = unanswered / max(1, fetches - 1)
    figures: tuple[tuple[str, float], ...] = (
        ("connect_ms", round(connect_ms, 1)),
        ("unanswered", float(unanswered)),
    )
    if not rtts:
        return CheckResult("network", CheckStatus.FAIL, "network.node_unreachable", figures)
    rtt = statistics.median(rtts)
    jitter = (
        statistics.mean(abs(a - b) for a, b in itertools.pairwise(rtts)) if len(rtts) > 1 else 0.0
    )
    figures += (("rtt_ms", round(rtt, 1)), ("jitter_ms", round(jitter, 1)))
    if rtt > USABLE_RTT_MS or share > FAIL_UNANSWERED_SHARE:
        return CheckResult("network", CheckStatus.FAIL, "network.poor", figures)
    if rtt > GOOD_RTT_MS or jitter > GOOD_JITTER_MS or unanswered:
        return CheckResult("network", CheckStatus.WARN, "network.slow", figures)
    return CheckResult("network", CheckStatus.PASS, "network.ok", figures)


async def measure_turn(targets: Sequence[TurnTarget]) -> tuple[bool, float | None]:
    """Whether any TURN server answered, and the fastest answer in ms."""
    answers = await asyncio.gather(*(probe_turn(t) for t in targets), return_exceptions=True)
    times = [a for a in answers if isinstance(a, float)]
    return bool(times), (round(min(times), 1) if times else None)


async def measure_network(probe: StatusProbe, turn: Sequence[TurnTarget] = ()) -> CheckResult:
    node_task = measure_node(probe)
    if not turn:
        return await node_task
    node, (turn_ok, turn_ms) = await asyncio.gather(node_task, measure_turn(turn))
    figures = node.figures + ((("turn_ms", turn_ms),) if turn_ms is not None else ())
    if node.status is not CheckStatus.FAIL and not turn_ok:
        return CheckResult("network", CheckStatus.FAIL, "network.turn_unreachable", figures)
    return CheckResult("network", node.status, node.advice, figures)


class NetworkCheck:
    name = "network"

    def __init__(self, probe: StatusProbe, turn: Sequence[TurnTarget] = ()) -> None:
        self._probe = probe
        self._turn = tuple(turn)
        self._result = CheckResult(self.name, CheckStatus.RUNNING, "network.checking")
        self.history = History()
        self.history.note(self._result)

    def result(self) -> CheckResult:
        return self._result

    async def run(self, repeat_s: float = REPEAT_S) -> None:
        """Measure, then measure again every `repeat_s` so a fixed cable shows up."""
        while True:
            self._result = self.history.note(await measure_network(self._probe, self._turn))
            await asyncio.sleep(repeat_s)
