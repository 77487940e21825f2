"""Named timers that live only as long as the session phase that started them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from kiosk.base.clock import Clock


class PhaseTimers:
    def __init__(self, clock: Clock, fire: Callable[[str], None]) -> None:
        self._clock = clock
        self._fire = fire
        self._tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, seconds: float) -> None:
        self.cancel(name)
        self._tasks[name] = asyncio.get_running_loop().create_task(
            self._run(name, seconds), name=f"timer-{name}"
        )

    def cancel(self, name: str) -> None:
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()

    def cancel_all(self) -> None:
        for name in list(self._tasks):
            self.cancel(name)

    @property
    def pending(self) -> frozenset[str]:
        return frozenset(self._tasks)

    async def _run(self, name: str, seconds: float) -> None:
        await self._clock.sleep(seconds)
        self._tasks.pop(name, None)
        self._fire(name)
