from __future__ import annotations

import asyncio
from pathlib import Path

from kiosk.base.clock import ManualClock
from kiosk.config import KioskConfig, load_config
from kiosk.fleet.store import write_atomically
from kiosk.fleet.watcher import ConfigWatcher


async def test_reports_each_new_valid_config_once_and_ignores_broken_ones(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    write_atomically(path, b'clinic_phone = "one"\n')
    clock = ManualClock()
    watcher = ConfigWatcher(path, load_config(path), clock=clock, interval_s=2.0)
    seen: list[str] = []

    async def consume() -> None:
        async for config in watcher.changes():
            seen.append(config.clinic_phone)

    task = asyncio.create_task(consume())
    await clock.advance(2)
    write_atomically(path, b'clinic_phone = "two"\n')
    await clock.advance(2)
    await clock.advance(2)
    write_atomically(path, b"lobby_limit_s = 'soon'\n")
    await clock.advance(2)
    errors = [watcher.last_error]
    write_atomically(path, b'clinic_phone = "two"\n')  # same content as in force: nothing new
    await clock.advance(2)
    write_atomically(path, b'clinic_phone = "three"\n')
    await clock.advance(2)
    path.unlink()
    await clock.advance(2)
    task.cancel()
    assert seen == ["two", "three"]
    assert errors == ["lobby_limit_s: expected a number of seconds, got str 'soon'"]
    assert watcher.current == KioskConfig(clinic_phone="three")
