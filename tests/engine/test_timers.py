"""The session's timers, each its own kind, on a clock the test moves."""

from __future__ import annotations

import asyncio

from kiosk.base.clock import ManualClock
from kiosk.engine.timers import PhaseTimers
from kiosk.session import events as ev


async def test_timers_fire_in_order_once_and_a_restart_replaces_the_old_one() -> None:
    clock = ManualClock(start=0.0)
    fired: list[tuple[type[ev.Timer], float]] = []
    timers = PhaseTimers(clock, lambda timer: fired.append((timer, clock.now())))
    timers.start(ev.LobbyTimeout, 900.0)
    timers.start(ev.IdleTimeout, 60.0)
    await asyncio.sleep(0)  # the engine's loop runs the new timers before time moves on
    await clock.advance(1.0)
    timers.start(ev.IdleTimeout, 60.0)  # a touch restarts it: the first one must not fire
    await asyncio.sleep(0)
    assert timers.pending == {ev.LobbyTimeout, ev.IdleTimeout}
    await clock.advance(1000.0)
    assert fired == [(ev.IdleTimeout, 61.0), (ev.LobbyTimeout, 900.0)]
    assert timers.pending == frozenset()


async def test_cancelled_timers_never_fire() -> None:
    clock = ManualClock(start=0.0)
    fired: list[type[ev.Timer]] = []
    timers = PhaseTimers(clock, fired.append)
    timers.start(ev.ReturnTimeout, 10.0)
    timers.start(ev.StillTrying, 30.0)
    timers.start(ev.GiveUp, 120.0)
    await asyncio.sleep(0)
    timers.cancel(ev.ReturnTimeout)
    timers.cancel(ev.RetryDue)  # not pending: nothing happens
    await clock.advance(40.0)
    timers.cancel_all()
    await clock.advance(200.0)
    assert fired == [ev.StillTrying]
    assert timers.pending == frozenset()
