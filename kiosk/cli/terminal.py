"""`kiosk run`: the kiosk as the terminal's service starts it.

It tells systemd READY=1 once the start screen is drawn and WATCHDOG=1 from the UI loop, so a
frozen screen is restarted, and any unhandled error ends the process for the same reason.
SIGTERM or SIGINT (`systemctl stop`) tells systemd STOPPING=1, leaves the conference, closes
the call and the devices, unloads the echo canceller and exits 0.
Beside the UI it runs what IT uses: Prometheus metrics, the control socket, and a watcher
that applies a new configuration between consultations.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from pathlib import Path

from kiosk.base.tasks import cancel_and_wait
from kiosk.cli.signals import keep_signals_from_sdl, run_until_signal
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
    keep_signals_from_sdl()
    from kiosk.ui.app import KioskApp

    install_crash_handlers(asyncio.get_running_loop())
    config_path = Path(os.environ.get("KIOSK_CONFIG", DEFAULT_PATH))
    config = load_config(config_path)
    metrics = KioskMetrics()
    async with running_engine(
        config, on_task_failure=lambda exc: die("engine", exc), echo_cancel=True, preload=False
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

            def first_frame() -> None:
                _tell_systemd_ready()
                engine.preload()

            app.on_first_frame = first_frame
            app.on_ui_tick = _pet_watchdog
            stopped_by = await run_until_signal(app, _tell_systemd_stopping)
        if stopped_by is not None:
            log.info("%s: the window is closed; leaving the conference", stopped_by)
        await cancel_and_wait(applying)
        management.close()
        metrics.close()
    # Also when the app stopped without a signal; a second STOPPING=1 is harmless.
    notify.stopping()
    log.info("stopped")


def _tell_systemd_ready() -> None:
    notify.ready()


def _tell_systemd_stopping(signal_name: str) -> None:
    notify.stopping()
    log.info("%s: stopping", signal_name)


def _pet_watchdog() -> None:
    notify.watchdog()


def main() -> int:
    try:
        asyncio.run(_run())
    except ConfigError as exc:
        log.error("the configuration is not usable: %s", exc)
        return 2
    # Everything the kiosk owns is closed by now (conference left, call, devices and echo
    # canceller closed, STOPPING=1 sent). What is left is the interpreter's own teardown of
    # Kivy, SDL, PortAudio and aiortc threads, which takes seconds and would push a
    # `systemctl stop` past its budget, so the process ends here.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
