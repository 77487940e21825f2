"""`kiosk run`: the kiosk as the terminal's service starts it.

It tells systemd READY=1 once the start screen is drawn and WATCHDOG=1 from the UI loop, so a
frozen screen is restarted, and any unhandled error ends the process for the same reason.
"""

from __future__ import annotations

import asyncio
import logging

from kiosk.cli.wiring import running_engine
from kiosk.config import ConfigError, load_config
from kiosk.system import notify
from kiosk.system.crash import die, install_crash_handlers

log = logging.getLogger(__name__)


async def _run() -> None:
    from kiosk.ui.app import KioskApp

    install_crash_handlers(asyncio.get_running_loop())
    config = load_config()
    async with running_engine(config, on_task_failure=lambda exc: die("engine", exc)) as engine:
        app = KioskApp(engine, fullscreen=config.fullscreen)
        app.on_first_frame = notify.ready
        app.on_ui_tick = notify.watchdog
        await app.async_run(async_lib="asyncio")
    notify.stopping()


def main() -> int:
    try:
        asyncio.run(_run())
    except ConfigError as exc:
        log.error("the configuration is not usable: %s", exc)
        return 2
    return 0
