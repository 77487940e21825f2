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
    Histogram,
    Info,
    ProcessCollector,
    start_http_server,
)

# The session phases as kiosk.session.state.Phase names them; others are added on first use.
PHASES = (
    "idle",
    "number",
    "checks",
    "joining",
    "waiting",
    "in_call",
    "reconnecting",
    "ended",
    "error",
    "wiping",
)
CHECK_STATUSES = ("ok", "warn", "fail", "unknown")
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
        self._phases: list[str] = []
        for phase in PHASES:
            self._add_phase(phase)
        self._current_phase = ""
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
        self._restarts = Gauge(
            "kiosk_service_restarts", "Restarts of the kiosk unit since boot (systemd)", registry=r
        )
        self._rtt = Gauge("kiosk_call_rtt_seconds", "Last measured round-trip time", registry=r)
        self._loss = Gauge(
            "kiosk_call_packet_loss_ratio", "Last inbound packet loss (0-1)", registry=r
        )
        self._fps = Gauge("kiosk_call_fps", "Last inbound video frame rate", registry=r)
        self._rtt_hist = Histogram(
            "kiosk_call_rtt_distribution_seconds",
            "Round-trip times over calls",
            buckets=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0),
            registry=r,
        )
        self._loss_hist = Histogram(
            "kiosk_call_packet_loss_distribution_ratio",
            "Packet loss over calls",
            buckets=(0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5),
            registry=r,
        )
        self._fps_hist = Histogram(
            "kiosk_call_fps_distribution",
            "Inbound frame rates over calls",
            buckets=(1, 5, 10, 15, 20, 25, 30),
            registry=r,
        )
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def _add_phase(self, phase: str) -> None:
        self._phases.append(phase)
        self._phase.labels(phase).set(0)
        self._phase_entries.labels(phase)

    def observe_phase(self, phase: str) -> None:
        _label(phase, "phase")
        if phase not in self._phases:
            self._add_phase(phase)
        if phase == self._current_phase:
            return
        for known in self._phases:
            self._phase.labels(known).set(1 if known == phase else 0)
        self._phase_entries.labels(phase).inc()
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

    def check_result(self, name: str, status: str) -> None:
        _label(name, "check")
        if status not in CHECK_STATUSES:
            raise ValueError(f"check status: expected one of {CHECK_STATUSES}, got {status[:20]!r}")
        for known in CHECK_STATUSES:
            self._check.labels(name, known).set(1 if known == status else 0)
        self._check_time.labels(name).set_to_current_time()

    def count_reconnect(self) -> None:
        self._reconnects.inc()

    def count_pin_failure(self) -> None:
        self._pin_failures.inc()

    def set_service_restarts(self, count: int) -> None:
        """From systemd's NRestarts for the kiosk unit; a crash loop shows as a rising value."""
        self._restarts.set(count)

    def call_quality(self, rtt_s: float, loss: float, fps: float) -> None:
        if rtt_s < 0 or not 0 <= loss <= 1 or fps < 0:
            raise ValueError(
                f"call quality: expected rtt>=0, 0<=loss<=1, fps>=0, got {rtt_s}, {loss}, {fps}"
            )
        self._rtt.set(rtt_s)
        self._loss.set(loss)
        self._fps.set(fps)
        self._rtt_hist.observe(rtt_s)
        self._loss_hist.observe(loss)
        self._fps_hist.observe(fps)

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
