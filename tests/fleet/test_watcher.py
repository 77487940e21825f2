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


async def test_the_watcher_outlives_every_bad_file_and_keeps_the_last_good(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    write_atomically(path, b'clinic_phone = "one"\n')
    clock = ManualClock()
    watcher = ConfigWatcher(path, load_config(path), clock=clock, interval_s=2.0)
    seen: list[str] = []
    errors: list[str | None] = []

    async def consume() -> None:
        async for config in watcher.changes():
            seen.append(config.clinic_phone)

    task = asyncio.create_task(consume())
    bad: list[bytes | None] = [
        b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        b"lobby_limit_s = nan\n",
        b"\xff\xfe not utf-8\n",
        f"ca_file = '{tmp_path / 'absent.pem'}'\n".encode(),
        None,  # the file replaced by a directory: reading it fails with an OSError
    ]
    for content in bad:
        if content is None:
            path.unlink()
            path.mkdir()
        else:
            write_atomically(path, content)
        await clock.advance(2)
        errors.append(watcher.last_error)
        assert not task.done()
    path.rmdir()
    write_atomically(path, b'clinic_phone = "two"\n')
    await clock.advance(2)
    task.cancel()
    assert seen == ["two"]
    assert all(errors) and len(errors) == len(bad)
    assert "malformed" in str(errors[0])
    assert "lobby_limit_s" in str(errors[1])
    assert "ca_file" in str(errors[3])
    assert watcher.current == KioskConfig(clinic_phone="two")
