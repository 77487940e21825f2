"""After a media outage: the call we have, or a new one.

aiortc keeps a peer connection through a cut until its ICE consent runs out (about 30 s), and
media flows on it again the moment the link returns, sooner than any new call could be set up
(in the fault lab about 0.15 s against 0.6 s for a new one). A new call also takes the old
one's place on the node. So the kiosk keeps the call it has and watches two things at once:

- media on the old call: the first packet back asks for a keyframe (`Call`) and the call goes
  on, with nothing rebuilt;
- the node: once it answers again (a `GET status` every `probe_every_s` on a fresh
  connection), the old call has `grace_s` to show that it is alive, and only then is a new
  call built.

A call known to be dead (its transport failed, the node hung it up, the far end's browser
went away) is replaced as soon as the node answers, without the grace. So is one whose outage
has lasted `old_call_trust_s`: aiortc gives up a peer connection after six failed consent
checks five seconds apart, and a call back from 20 s of silence may be one check from that.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kiosk.base.tasks import cancel_and_wait
from kiosk.media.call import Call

log = logging.getLogger(__name__)

Reachable = Callable[[float], Awaitable[bool]]


class Recovery(enum.Enum):
    RESUMED = "resumed"  # media flows on the call we had
    REBUILD = "rebuild"  # the node answers and the old call is dead or silent: a new call


@dataclass(frozen=True)
class RecoveryTiming:
    probe_every_s: float = 0.2
    probe_timeout_s: float = 1.0
    # After the node answers again: the old call's far end resends at once, so a packet
    # within this long says it survived.
    grace_s: float = 0.6
    # A packet this recent on the old call means media flows on it again.
    resumed_gap_s: float = 0.15
    poll_s: float = 0.02
    old_call_trust_s: float = 20.0


async def recover(
    call: Call | None, reachable: Reachable, timing: RecoveryTiming | None = None
) -> Recovery:
    """Wait until the old `call` (None: known dead) carries media again, or until the node
    answers and the old call has had its grace; never gives up on its own (the session's
    give-up timer ends the wait by cancelling it)."""
    timing = timing or RecoveryTiming()
    network = asyncio.ensure_future(_until_reachable(reachable, timing))
    old = asyncio.ensure_future(_until_resumed(call, timing)) if call is not None else None
    try:
        if old is None:
            await network
            return Recovery.REBUILD
        await asyncio.wait({old, network}, return_when=asyncio.FIRST_COMPLETED)
        if old.done():
            if old.result():
                return Recovery.RESUMED
            log.info("the old call is gone or too long silent: a new one once the node answers")
            await network
            return Recovery.REBUILD
        log.info("the node answers again; the old call has %.1f s to show media", timing.grace_s)
        try:
            async with asyncio.timeout(timing.grace_s):
                if await old:
                    return Recovery.RESUMED
        except TimeoutError:
            pass
        return Recovery.REBUILD
    finally:
        await cancel_and_wait(network, old)


async def _until_resumed(call: Call, timing: RecoveryTiming) -> bool:
    """True when packets arrive on `call` again, False when its transport has failed or the
    outage has lasted too long to trust it."""
    loop = asyncio.get_running_loop()
    given_up_at = loop.time() + timing.old_call_trust_s
    while True:
        counters = await call.inbound()
        if counters.transport in ("failed", "closed") or loop.time() >= given_up_at:
            return False
        if counters.rtp_gap_s is not None and counters.rtp_gap_s <= timing.resumed_gap_s:
            return True
        await asyncio.sleep(timing.poll_s)


async def _until_reachable(reachable: Reachable, timing: RecoveryTiming) -> None:
    """Return once a probe is answered. Probes start every `probe_every_s` whether or not
    the previous one has finished: during a silent cut each waits out its timeout."""
    answered = asyncio.Event()
    probes: set[asyncio.Future[bool]] = set()

    def done(probe: asyncio.Future[bool]) -> None:
        probes.discard(probe)
        if not probe.cancelled() and probe.exception() is None and probe.result():
            answered.set()

    try:
        while not answered.is_set():
            started = asyncio.ensure_future(reachable(timing.probe_timeout_s))
            probes.add(started)
            started.add_done_callback(done)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(answered.wait(), timing.probe_every_s)
    finally:
        for pending in list(probes):
            pending.cancel()
