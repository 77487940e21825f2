"""Talk to systemd's service manager: READY=1, WATCHDOG=1, STOPPING=1 and STATUS=.

A few lines of the sd_notify protocol over a Unix datagram socket, so the kiosk needs no
extra package. Outside systemd ($NOTIFY_SOCKET unset) every call is a harmless no-op.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

# WATCHDOG=1 at most this often per watchdog interval: plenty of margin, and a 60 Hz UI
# tick does not turn into 60 datagrams a second.
PINGS_PER_INTERVAL = 4
# Without $WATCHDOG_USEC nobody is counting; one ping a second is still cheap.
UNSUPERVISED_GAP_S = 1.0


def watchdog_interval(environ: Mapping[str, str] | None = None) -> float | None:
    """Seconds within which systemd expects WATCHDOG=1, or None if no watchdog is set for us."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid:
        if not pid.isdigit():
            log.warning("WATCHDOG_PID should be a process id, got %r; ignoring the watchdog", pid)
            return None
        if int(pid) != os.getpid():
            return None
    if not usec.isdigit() or int(usec) == 0:
        log.warning("WATCHDOG_USEC should be a positive integer, got %r; ignoring it", usec)
        return None
    return int(usec) / 1_000_000


def socket_address(value: str) -> str | bytes:
    """The address to send to: '@name' is Linux's abstract namespace, anything else a path."""
    if value.startswith("@"):
        return b"\0" + value[1:].encode()
    return value


class Notifier:
    """One connection to the service manager. Thread-safe; never raises into its caller."""

    def __init__(
        self,
        environ: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        env = os.environ if environ is None else environ
        raw = env.get("NOTIFY_SOCKET", "")
        self._address = socket_address(raw) if raw else None
        interval = watchdog_interval(env)
        self._watchdog_gap = (
            interval / PINGS_PER_INTERVAL if interval is not None else UNSUPERVISED_GAP_S
        )
        self._monotonic = monotonic
        self._last_ping: float | None = None
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def send(self, *fields: str) -> bool:
        """Send `KEY=value` fields in one datagram. False if there is nobody to tell."""
        if self._address is None:
            return False
        payload = "\n".join(fields).encode()
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(
                        socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                    )
                self._sock.sendto(payload, self._address)
            except OSError as exc:
                # The manager is gone or restarting; the next call tries again.
                if not self._warned:
                    log.warning("could not reach the service manager: %s", exc.strerror)
                    self._warned = True
                self._close_locked()
                return False
        self._warned = False
        return True

    def ready(self) -> bool:
        return self.send("READY=1")

    def watchdog(self) -> bool:
        """Ping the watchdog; called from every UI tick, sends only as often as needed."""
        now = self._monotonic()
        if self._last_ping is not None and now - self._last_ping < self._watchdog_gap:
            return False
        self._last_ping = now
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def status(self, text: str) -> bool:
        """One line shown by `systemctl status`. Never put personal data in it."""
        return self.send("STATUS=" + " ".join(text.split()))

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


_default: Notifier | None = None
_default_lock = threading.Lock()


def default_notifier() -> Notifier:
    """The process-wide notifier, built from the environment on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Notifier()
        return _default


def ready() -> bool:
    return default_notifier().ready()


def watchdog() -> bool:
    return default_notifier().watchdog()


def stopping() -> bool:
    return default_notifier().stopping()


def status(text: str) -> bool:
    return default_notifier().status(text)


__all__ = [
    "Notifier",
    "default_notifier",
    "ready",
    "socket_address",
    "status",
    "stopping",
    "watchdog",
    "watchdog_interval",
]
