"""What IT sees of a running kiosk and may ask of it: Prometheus metrics, and the local
control socket's status and actions, each action held back until no consultation runs."""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import kiosk
from kiosk.config import KioskConfig, load_config
from kiosk.engine.engine import Engine
from kiosk.fleet.metrics import KioskMetrics
from kiosk.session.state import Phase, SessionState

log = logging.getLogger(__name__)

REBOOT_COMMAND = ("systemctl", "reboot")


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


class Management:
    """Implements the control socket's handler over the engine and feeds the metrics."""

    def __init__(
        self,
        engine: Engine,
        metrics: KioskMetrics,
        *,
        load: Callable[[], KioskConfig] = load_config,
        reboot: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._metrics = metrics
        self._load = load
        self._reboot = reboot or _reboot_terminal
        self._last_phase: Phase | None = None
        self._unsubscribe = engine.subscribe(self._observe)
        metrics.set_versions(
            kiosk=kiosk.__version__,
            aiortc=_version_of("aiortc"),
            kivy=_version_of("kivy"),
        )
        self._observe(engine.state)

    def close(self) -> None:
        self._unsubscribe()

    # -- metrics ------------------------------------------------------------------------------

    def _observe(self, state: SessionState) -> None:
        if state.pin_failures > getattr(self, "_last_pin_failures", state.pin_failures):
            self._metrics.count_pin_failure()
        self._last_pin_failures = state.pin_failures
        if state.phase is not self._last_phase:
            if state.phase is Phase.RECONNECTING:
                self._metrics.count_reconnect()
            self._metrics.observe_phase(state.phase.value)
            self._last_phase = state.phase
        devices = self._engine.devices
        self._metrics.device_present("camera", not devices.camera_synthetic)
        self._metrics.device_present("microphone", not devices.microphone_silent)
        self._metrics.device_present("speaker", not devices.speaker_missing)
        self._metrics.device_present("echo_canceller", not devices.echo_cancel_missing)
        if state.checks is not None and state.checks.complete:
            for line in state.checks.lines:
                self._metrics.check_result(line.name, line.status.value)

    # -- the control socket's handler ---------------------------------------------------------

    def status(self) -> dict[str, Any]:
        devices = self._engine.devices
        return {
            "phase": self._engine.state.phase.value,
            "version": kiosk.__version__,
            "site": self._engine.config.site,
            "terminal": self._engine.config.terminal,
            "camera_synthetic": devices.camera_synthetic,
            "camera_unplugged": devices.camera_unplugged,
            "microphone_missing": devices.microphone_silent,
            "speaker_missing": devices.speaker_missing,
            "echo_cancel_missing": devices.echo_cancel_missing,
        }

    def is_idle(self) -> bool:
        return self._engine.state.phase is Phase.IDLE

    async def wait_idle(self) -> None:
        while not self.is_idle():
            try:
                await self._engine.wait_for(lambda s: s.phase is Phase.IDLE, timeout=3600.0)
            except TimeoutError:
                continue

    def request_reboot(self) -> None:
        log.info("rebooting the terminal at IT's request, between consultations")
        self._reboot()

    def request_reload_config(self) -> None:
        self._engine.apply_config(self._load())
        log.info("configuration reloaded at IT's request")


def _reboot_terminal() -> None:
    # logind decides (polkit lets the kiosk user reboot); the app does not wait for it.
    subprocess.Popen(REBOOT_COMMAND, stdin=subprocess.DEVNULL)


async def apply_new_configs(engine: Engine, changes: Any) -> None:
    """Apply each configuration the watcher reports, as soon as the kiosk is idle."""
    async for config in changes:
        while engine.state.phase is not Phase.IDLE:
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, timeout=3600.0)
        engine.apply_config(config)
        await asyncio.sleep(0)
