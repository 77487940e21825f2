"""What IT sees of a running kiosk and may ask of it: Prometheus metrics, and the local
control socket's status and actions, each action held back until no consultation runs.

Fleet work sits below the engine (the engine may import fleet, not the other way), so this
module names only what it needs of a running engine, as a protocol the engine satisfies.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import AsyncIterator, Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

import kiosk
from kiosk.config import KioskConfig, load_config
from kiosk.fleet.metrics import KioskMetrics
from kiosk.session.state import Phase, SessionState

log = logging.getLogger(__name__)

REBOOT_COMMAND = ("systemctl", "reboot")


class Devices(Protocol):
    @property
    def camera_synthetic(self) -> bool: ...
    @property
    def camera_unplugged(self) -> bool: ...
    @property
    def microphone_missing(self) -> bool: ...
    @property
    def speaker_missing(self) -> bool: ...
    @property
    def echo_cancel_missing(self) -> bool: ...


class ManagedEngine(Protocol):
    """What management reads of and asks from the running engine."""

    @property
    def state(self) -> SessionState: ...
    @property
    def config(self) -> KioskConfig: ...
    @property
    def devices(self) -> Devices: ...
    @property
    def observer_failures(self) -> int: ...
    def subscribe(self, listener: Callable[[SessionState], None]) -> Callable[[], None]: ...
    async def wait_for(self, predicate: Callable[[SessionState], bool], timeout: float) -> None: ...
    def apply_config(self, config: KioskConfig) -> None: ...


def _version_of(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "absent"


class Management:
    """Implements the control socket's handler over the engine and feeds the metrics."""

    def __init__(
        self,
        engine: ManagedEngine,
        metrics: KioskMetrics,
        *,
        load: Callable[[], KioskConfig] = load_config,
        reboot: Callable[[], None] | None = None,
        config_version: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._metrics = metrics
        self._load = load
        self._reboot = reboot or _reboot_terminal
        self._config_version = config_version
        self._last_phase: Phase | None = None
        self._unsubscribe = engine.subscribe(self._observe)
        metrics.set_versions(
            kiosk=kiosk.__version__,
            aiortc=_version_of("aiortc"),
            kivy=_version_of("kivy"),
        )
        self.note_config()
        self._observe(engine.state)

    def close(self) -> None:
        self._unsubscribe()

    # -- metrics ------------------------------------------------------------------------------

    def note_config(self) -> None:
        """The signed configuration's version, read again after each apply."""
        version = self._config_version()
        if version is not None:
            self._metrics.set_config_version(version)

    def _observe(self, state: SessionState) -> None:
        if state.pin_failures > getattr(self, "_last_pin_failures", state.pin_failures):
            self._metrics.count_pin_failure()
        self._last_pin_failures = state.pin_failures
        if state.phase is not self._last_phase:
            if state.phase is Phase.RECONNECTING:
                self._metrics.count_reconnect()
            self._metrics.observe_phase(state.phase)
            self._last_phase = state.phase
        devices = self._engine.devices
        self._metrics.device_present("camera", not devices.camera_synthetic)
        self._metrics.device_present("microphone", not devices.microphone_missing)
        self._metrics.device_present("speaker", not devices.speaker_missing)
        self._metrics.device_present("echo_canceller", not devices.echo_cancel_missing)
        self._metrics.set_observer_failures(self._engine.observer_failures)
        if state.checks is not None and state.checks.complete:
            for line in state.checks.lines:
                self._metrics.check_result(line.name, line.status)

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
            "microphone_missing": devices.microphone_missing,
            "speaker_missing": devices.speaker_missing,
            "echo_cancel_missing": devices.echo_cancel_missing,
            "observer_failures": self._engine.observer_failures,
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
        self.note_config()
        log.info("configuration reloaded at IT's request")


def _reboot_terminal() -> None:
    # logind decides (polkit lets the kiosk user reboot); the app does not wait for it.
    subprocess.Popen(REBOOT_COMMAND, stdin=subprocess.DEVNULL)


async def apply_new_configs(
    engine: ManagedEngine,
    changes: AsyncIterator[KioskConfig],
    applied: Callable[[], None] = lambda: None,
) -> None:
    """Apply each configuration the watcher reports, as soon as the kiosk is idle."""
    async for config in changes:
        while engine.state.phase is not Phase.IDLE:
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, timeout=3600.0)
        engine.apply_config(config)
        applied()
        await asyncio.sleep(0)
