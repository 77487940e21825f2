"""Staff PINs for the engine: checked off the loop, and the failed attempts kept across a
restart (in the runtime directory, in memory only), so a restart gives no fresh guesses."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from kiosk.base.clock import Clock
from kiosk.base.pins import (
    PinHashError,
    check_pin,
    load_attempts,
    runtime_directory,
    save_attempts,
)
from kiosk.config import KioskConfig
from kiosk.session.state import SessionState

log = logging.getLogger(__name__)


class StaffPins:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._dir = runtime_directory()
        # Wrong staff PINs since start, for the metrics.
        self.failures_total = 0

    def restore(self, state: SessionState) -> SessionState:
        """`state` with the attempts kept before a restart."""
        failures, locked_s = load_attempts(self._dir, state.timing.pin_lockout_s)
        if not failures and not locked_s:
            return state
        return dataclasses.replace(
            state, pin_failures=failures, pin_locked_until=self._clock.now() + locked_s
        )

    def keep(self, before: SessionState, after: SessionState) -> None:
        """Count and keep the attempts if the step from `before` to `after` changed them."""
        if (before.pin_failures, before.pin_locked_until) == (
            after.pin_failures,
            after.pin_locked_until,
        ):
            return
        if after.pin_failures > before.pin_failures:
            self.failures_total += 1
        try:
            save_attempts(self._dir, after.pin_failures, after.pin_locked_until - self._clock.now())
        except OSError as exc:
            log.error("could not keep the PIN attempts: %s", type(exc).__name__)

    @staticmethod
    async def check(config: KioskConfig, role: str, pin: str) -> bool:
        """Whether `pin` is the `role`'s PIN; scrypt runs off the loop."""
        stored = config.nurse_pin_hash if role == "nurse" else config.maintenance_pin_hash
        try:
            ok = await asyncio.get_running_loop().run_in_executor(None, check_pin, pin, stored)
        except PinHashError as exc:
            log.error("the %s PIN hash in the configuration is unusable: %s", role, exc)
            ok = False
        log.info("%s PIN %s", role, "accepted" if ok else "refused")
        return ok
