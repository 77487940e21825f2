"""Noticing that the pull installed a new configuration. The engine decides when to apply it
(between sessions); this only reports a new, valid one."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.config import ConfigError, KioskConfig, load_config

log = logging.getLogger(__name__)

_Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> _Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    # The pull replaces the file by rename, so the inode changes even within one mtime tick.
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class ConfigWatcher:
    """Polls one file. `check()` returns a new configuration once per change, or None."""

    def __init__(
        self,
        path: Path,
        current: KioskConfig,
        *,
        clock: Clock | None = None,
        interval_s: float = 2.0,
    ) -> None:
        self._path = path
        self._current = current
        self._clock = clock or MonotonicClock()
        self._interval_s = interval_s
        self._seen = _stamp(path)
        self.last_error: str | None = None

    @property
    def current(self) -> KioskConfig:
        return self._current

    def check(self) -> KioskConfig | None:
        stamp = _stamp(self._path)
        if stamp == self._seen or stamp is None:
            return None
        self._seen = stamp
        try:
            config = load_config(self._path)
        except (ConfigError, OSError) as exc:
            # The pull verifies before it writes, so this is a hand edit or damage: keep what
            # runs and say why the new one was refused.
            self.last_error = str(exc) if isinstance(exc, ConfigError) else type(exc).__name__
            log.warning("new configuration refused, the last good one stays: %s", self.last_error)
            return None
        self.last_error = None
        if config == self._current:
            return None
        self._current = config
        return config

    async def changes(self) -> AsyncIterator[KioskConfig]:
        """Yields each new valid configuration, forever; cancel the consuming task to stop."""
        while True:
            try:
                config = self.check()
            except Exception as exc:  # a watcher that dies would never see a fix
                self.last_error = f"unexpected {type(exc).__name__}"
                log.exception("config watcher: unexpected error, still watching")
                config = None
            if config is not None:
                yield config
            await self._clock.sleep(self._interval_s)
