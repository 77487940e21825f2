"""Prometheus metrics of one terminal: what IT needs to see the fleet's health, and nothing
about a patient. Label values come only from fixed, checked vocabularies."""

from __future__ import annotations

import re
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    ProcessCollector,
    start_http_server,
)

from kiosk.base.status import CheckStatus
from kiosk.session.state import Phase

# What a check ended with; RUNNING is not a result and is never a series.
CHECK_RESULTS = tuple(status for status in CheckStatus if status is not CheckStatus.RUNNING)
# A label value is a short identifier: no spaces, no digit runs that could be a number or PIN.
_LABEL = re.compile(r"[a-z][a-z_]{0,31}")
_VERSION = re.compile(r"[A-Za-z0-9.+_-]{1,40}")


def _label(value: str, what: str) -> str:
    if not _LABEL.fullmatch(value):
        raise ValueError(f"{what}: expected a lower-case identifier (a-z, _), got {value[:40]!r}")
    return value


class KioskMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self._phase = Gauge(
            "kiosk_session_phase", "1 for the session's current phase", ["phase"], registry=r
        )
        self._phase_entries = Counter(
            "kiosk_session_phase_entries", "Times each phase was entered", ["phase"], registry=r
        )
        # Every phase is a series from the start, so "never entered" reads 0, not absent.
        for phase in Phase:
            self._phase.labels(phase.value).set(0)
            self._phase_entries.labels(phase.value)
        self._current_phase: Phase | None = None
        self._info = Info("kiosk_build", "Versions of the kiosk and its main parts", registry=r)
        self._config_version = Gauge(
            "kiosk_config_version", "Version of the signed configuration in force", registry=r
        )
        self._device = Gauge(
            "kiosk_device_present", "1 if the device is present", ["device"], registry=r
        )
        self._check = Gauge(
            "kiosk_check_status",
            "1 for the last result of each check",
            ["check", "status"],
            registry=r,
        )
        self._check_time = Gauge(
            "kiosk_check_last_run_timestamp_seconds",
            "When each check last ran",
            ["check"],
            registry=r,
        )
        self._reconnects = Counter(
            "kiosk_call_reconnects", "Calls rebuilt after a media outage", registry=r
        )
        self._pin_failures = Counter(
            "kiosk_staff_pin_failures", "Wrong staff PINs typed on the PIN pad", registry=r
        )
        self._observer_failures = Gauge(
            "kiosk_observer_failures",
            "Times an observer of the session (metrics, ctl) failed; each is logged",
            registry=r,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def observe_phase(self, phase: Phase) -> None:
        if phase is self._current_phase:
            return
        for known in Phase:
            self._phase.labels(known.value).set(1 if known is phase else 0)
        self._phase_entries.labels(phase.value).inc()
        self._current_phase = phase

    def set_versions(self, **versions: str) -> None:
        """E.g. set_versions(kiosk="0.1.0", aiortc="1.16.0"); keys are part names."""
        for name, value in versions.items():
            _label(name, "version name")
            if not _VERSION.fullmatch(value):
                raise ValueError(
                    f"version of {name}: expected a version string, got {value[:40]!r}"
                )
        self._info.info(dict(versions))

    def set_config_version(self, version: int) -> None:
        self._config_version.set(version)

    def device_present(self, name: str, present: bool) -> None:
        self._device.labels(_label(name, "device")).set(1 if present else 0)

    def check_result(self, name: str, status: CheckStatus) -> None:
        _label(name, "check")
        if status not in CHECK_RESULTS:
            raise ValueError(f"check {name}: expected a finished result, got {status.value}")
        for known in CHECK_RESULTS:
            self._check.labels(name, known.value).set(1 if known is status else 0)
        self._check_time.labels(name).set_to_current_time()

    def count_reconnect(self) -> None:
        self._reconnects.inc()

    def set_observer_failures(self, count: int) -> None:
        self._observer_failures.set(count)

    def count_pin_failure(self) -> None:
        self._pin_failures.inc()

    def serve(self, host: str, port: int) -> int:
        """Serve /metrics on a background thread; returns the port (useful with port 0)."""
        if self._server is not None:
            raise RuntimeError("metrics are already being served")
        self._server, self._thread = start_http_server(port, addr=host, registry=self.registry)
        return int(self._server.server_port)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
