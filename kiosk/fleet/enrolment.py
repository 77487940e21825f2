"""What a terminal needs to know to join the fleet, and the QR payload that carries it.

Payload: ``KIOSK-ENROL:1:`` followed by base64url (no padding) of a compact JSON object
``{"u": config URL, "f": signer key fingerprint, "s": site, "t": terminal}``.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import segno

from kiosk.base.hosts import is_loopback_host
from kiosk.config import NAME_PATTERN
from kiosk.fleet.keys import FINGERPRINT_PATTERN, KeyFormatError, b64url, b64url_decode

PREFIX = "KIOSK-ENROL:"
VERSION = 1
MAX_PAYLOAD_CHARS = 1024
MAX_URL_CHARS = 512


class EnrolmentError(ValueError):
    """An enrolment payload or file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Enrolment:
    config_url: str
    signer_fingerprint: str
    site: str
    terminal: str

    def __post_init__(self) -> None:
        check_config_url(self.config_url)
        if not FINGERPRINT_PATTERN.fullmatch(self.signer_fingerprint):
            raise EnrolmentError(
                "signer_fingerprint: expected 'sha256:' and 43 base64url characters, "
                f"got {self.signer_fingerprint[:60]!r}"
            )
        for name in ("site", "terminal"):
            if not NAME_PATTERN.fullmatch(getattr(self, name)):
                raise EnrolmentError(
                    f"{name}: expected 1-63 lower-case letters, digits, '.', '_' or '-', "
                    f"got {getattr(self, name)[:70]!r}"
                )

    def payload(self) -> str:
        body = {
            "u": self.config_url,
            "f": self.signer_fingerprint,
            "s": self.site,
            "t": self.terminal,
        }
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=True)
        return f"{PREFIX}{VERSION}:{b64url(text.encode('ascii'))}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def check_config_url(url: str) -> str:
    """https only; plain http is tolerated for loopback hosts, where tests run their servers."""
    if len(url) > MAX_URL_CHARS:
        raise EnrolmentError(
            f"config_url: expected at most {MAX_URL_CHARS} characters, got {len(url)}"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise EnrolmentError(f"config_url: not a URL ({exc})") from exc
    if not (parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(host))):
        raise EnrolmentError(f"config_url: expected an https:// URL, got scheme {parts.scheme!r}")
    if not host:
        raise EnrolmentError(f"config_url: expected a host name, got {url[:80]!r}")
    return url


def parse_enrolment(payload: str) -> Enrolment:
    """Read a scanned QR payload; refuses anything but a well-formed version 1 payload."""
    if not isinstance(payload, str):
        raise EnrolmentError(f"expected text, got {type(payload).__name__}")
    if len(payload) > MAX_PAYLOAD_CHARS:
        raise EnrolmentError(f"expected at most {MAX_PAYLOAD_CHARS} characters, got {len(payload)}")
    if not payload.startswith(PREFIX):
        raise EnrolmentError(
            f"expected a payload starting with {PREFIX!r}; this is another QR code"
        )
    version, sep, body = payload[len(PREFIX) :].partition(":")
    if not sep or version != str(VERSION):
        raise EnrolmentError(f"expected payload version {VERSION}, got {version[:10]!r}")
    try:
        data = json.loads(b64url_decode(body, "payload").decode("ascii"))
    except (KeyFormatError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnrolmentError(f"expected base64url JSON after the version ({exc})") from exc
    return _from_fields(
        data, {"u": "config_url", "f": "signer_fingerprint", "s": "site", "t": "terminal"}
    )


def _from_fields(data: Any, names: dict[str, str]) -> Enrolment:
    if not isinstance(data, dict):
        raise EnrolmentError(f"expected a JSON object, got {type(data).__name__}")
    if set(data) != set(names):
        raise EnrolmentError(f"expected keys {sorted(names)}, got {sorted(map(str, data))[:10]}")
    for key, value in data.items():
        if not isinstance(value, str):
            raise EnrolmentError(f"{names[key]}: expected a string, got {type(value).__name__}")
    return Enrolment(**{names[key]: value for key, value in data.items()})


def enrolment_from_json(text: str) -> Enrolment:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EnrolmentError(f"enrolment file: expected JSON ({exc})") from exc
    fields = ("config_url", "signer_fingerprint", "site", "terminal")
    return _from_fields(data, {f: f for f in fields})


def make_qr(enrolment: Enrolment, out: Path | None = None, scale: int = 8) -> str:
    """Write the QR code to `out` (.png or .svg) or, without one, return it as terminal text."""
    qr = segno.make(enrolment.payload(), error="m", micro=False)
    if out is None:
        buf = io.StringIO()
        qr.terminal(out=buf, compact=True)
        return buf.getvalue()
    if out.suffix.lower() not in (".png", ".svg"):
        raise EnrolmentError(f"QR output: expected a .png or .svg path, got {out.name!r}")
    qr.save(str(out), scale=scale, border=4)
    return str(out)
