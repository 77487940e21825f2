"""Keep personal data out of logs.

The kiosk never logs a meeting number, PIN or display name on purpose; this filter is the
second line of defence for the day someone does by accident. It masks every run of four or
more digits and every string registered as secret for the running session.
"""

from __future__ import annotations

import logging
import re
import threading

_DIGITS = re.compile(r"\d{4,}")
MASK = "[redacted]"


def mask_digits(text: str) -> str:
    """Replace runs of four or more digits (numbers, PINs, phone numbers) with a mask."""
    return _DIGITS.sub(MASK, text)


class Secrets:
    """Strings that must never reach a log while a session lives; cleared when it is wiped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()

    def add(self, *values: str) -> None:
        with self._lock:
            self._values.update(v for v in values if v and len(v) >= 2)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def scrub(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            text = text.replace(value, MASK)
        return mask_digits(text)


SESSION_SECRETS = Secrets()


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, then masks secrets and long digit runs in it."""

    def __init__(self, fmt: str, secrets: Secrets = SESSION_SECRETS) -> None:
        super().__init__(fmt)
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return self._secrets.scrub(super().format(record))


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr (the journal under systemd) through the redacting formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # ICE pair checks and RTP packets, several a second: only worth reading when they fail.
    for chatty in ("aioice", "aiortc"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
