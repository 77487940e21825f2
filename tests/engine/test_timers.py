"""Named timers of a session phase, on a clock the test moves."""

from __future__ import annotations

import asyncio

from kiosk.base.clock import ManualClock
from kiosk.engine.timers import PhaseTimers


async def test_timers_fire_in_order_once_and_a_restart_replaces_the_old_one() -> None:
    clock = ManualClock(start=0.0)
    fired: list[tuple[str, float]] = []
    timers = PhaseTimers(clock, lambda name: fired.append((name, clock.now())))
    timers.start("lobby", 900.0)
    timers.start("idle", 60.0)
    await asyncio.sleep(0)  # the engine's loop runs the new timers before time moves on
    await clock.advance(1.0)
    timers.start("idle", 60.0)  # a touch restarts it: the first one must not fire
    await asyncio.sleep(0)
    assert timers.pending == {"lobby", "idle"}
    await clock.advance(1000.0)
    assert fired == [("idle", 61.0), ("lobby", 900.0)]
    assert timers.pending == frozenset()


async def test_cancelled_timers_never_fire() -> None:
    clock = ManualClock(start=0.0)
    fired: list[str] = []
    timers = PhaseTimers(clock, fired.append)
    timers.start("return", 10.0)
    timers.start("still_trying", 30.0)
    timers.start("give_up", 120.0)
    await asyncio.sleep(0)
    timers.cancel("return")
    timers.cancel("no such timer")
    await clock.advance(40.0)
    timers.cancel_all()
    await clock.advance(200.0)
    assert fired == ["still_trying"]
    assert timers.pending == frozenset()
