"""The session's limits from the configuration, and timers that live only as long as the
session phase that started them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kiosk.base.clock import Clock
from kiosk.config import KioskConfig
from kiosk.session.events import Timer
from kiosk.session.reconnect import ReconnectPolicy
from kiosk.session.state import Timing


def timing_from(config: KioskConfig) -> Timing:
    defaults = ReconnectPolicy()
    return Timing(
        number_idle_s=config.number_idle_s,
        ended_return_s=config.ended_return_s,
        # A minute past the node's own limit: the node should time out first.
        lobby_limit_s=config.lobby_limit_s + 60.0,
        reconnect=ReconnectPolicy(
            still_trying_s=min(defaults.still_trying_s, config.reconnect_give_up_s / 2),
            give_up_s=config.reconnect_give_up_s,
            lobby_auto_knocks=config.lobby_auto_knocks,
        ),
    )


class PhaseTimers:
    """One pending timer of each kind; `fire(kind)` is called when one runs out."""

    def __init__(self, clock: Clock, fire: Callable[[type[Timer]], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._tasks: dict[type[Timer], asyncio.Task[None]] = {}

    def start(self, timer: type[Timer], seconds: float) -> None:
        self.cancel(timer)
        self._tasks[timer] = asyncio.get_running_loop().create_task(
            self._run(timer, seconds), name=f"timer-{timer.__name__}"
        )

    def cancel(self, timer: type[Timer]) -> None:
        task = self._tasks.pop(timer, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for timer in list(self._tasks):
            self.cancel(timer)

    @property
    def pending(self) -> frozenset[type[Timer]]:
        return frozenset(self._tasks)

    async def _run(self, timer: type[Timer], seconds: float) -> None:
        await self._clock.sleep(seconds)
        self._tasks.pop(timer, None)
        self._fire(timer)
