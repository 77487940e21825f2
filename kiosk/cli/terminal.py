"""`kiosk run`: the kiosk as the terminal's service starts it.

It tells systemd READY=1 once the start screen is drawn and WATCHDOG=1 from the UI loop, so a
frozen screen is restarted, and any unhandled error ends the process for the same reason.
Beside the UI it runs what IT uses: Prometheus metrics, the control socket, and a watcher
that applies a new configuration between consultations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from kiosk.cli.wiring import running_engine
from kiosk.config import DEFAULT_PATH, ConfigError, load_config
from kiosk.fleet.ctl import CtlServer
from kiosk.fleet.management import Management, apply_new_configs
from kiosk.fleet.metrics import KioskMetrics
from kiosk.fleet.store import ConfigStore
from kiosk.fleet.watcher import ConfigWatcher
from kiosk.system import notify
from kiosk.system.crash import die, install_crash_handlers

log = logging.getLogger(__name__)


async def _run() -> None:
    from kiosk.ui.app import KioskApp

    install_crash_handlers(asyncio.get_running_loop())
    config_path = Path(os.environ.get("KIOSK_CONFIG", DEFAULT_PATH))
    config = load_config(config_path)
    metrics = KioskMetrics()
    async with running_engine(
        config, on_task_failure=lambda exc: die("engine", exc), echo_cancel=True
    ) as engine:
        store = ConfigStore(config_path.parent)
        management = Management(engine, metrics, config_version=store.current_version)
        metrics.serve(config.management_host, config.management_port)
        watcher = ConfigWatcher(config_path, config)
        applying = asyncio.get_running_loop().create_task(
            apply_new_configs(engine, watcher.changes(), management.note_config),
            name="config-watcher",
        )
        async with CtlServer(Path(config.ctl_socket), management):
            app = KioskApp(engine, fullscreen=config.fullscreen)
            app.on_first_frame = _tell_systemd_ready
            app.on_ui_tick = _pet_watchdog
            await app.async_run(async_lib="asyncio")
        applying.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await applying
        management.close()
        metrics.close()
    notify.stopping()


def _tell_systemd_ready() -> None:
    notify.ready()


def _pet_watchdog() -> None:
    notify.watchdog()


def main() -> int:
    try:
        asyncio.run(_run())
    except ConfigError as exc:
        log.error("the configuration is not usable: %s", exc)
        return 2
    return 0
