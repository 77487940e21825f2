"""What a QR code may ask the kiosk to join, and everything it may not.

Accepted: a Pexip web-app link `https://<host>/webapp/conference/<alias>?...`, the older
`https://<host>/webapp/#/?conference=<alias>` form, or a bare six-digit number. The host must
be on the allow-list exactly (https only, no userinfo, no port tricks, ASCII only).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

MAX_PAYLOAD = 512
_ALIAS = re.compile(r"[0-9]{6}")
_HOST = re.compile(
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
)


@dataclass(frozen=True)
class JoinTarget:
    alias: str
    host: str | None  # None for a bare number: join on the configured node


@dataclass(frozen=True)
class Refusal:
    reason: str  # a key: qr.too_long, qr.not_text, qr.not_https, qr.host_not_allowed, qr.bad_link


def parse_join_payload(data: bytes, allowed_hosts: tuple[str, ...]) -> JoinTarget | Refusal:
    if len(data) > MAX_PAYLOAD:
        return Refusal("qr.too_long")
    try:
        text = data.decode("ascii").strip()
    except UnicodeDecodeError:
        return Refusal("qr.not_text")
    if not text.isprintable():
        return Refusal("qr.not_text")
    if _ALIAS.fullmatch(text):
        return JoinTarget(alias=text, host=None)
    if text.isdigit():
        return Refusal("qr.bad_link")
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError:
        return Refusal("qr.bad_link")
    if url.scheme != "https":
        return Refusal("qr.not_https")
    host = url.hostname or ""
    if (
        "@" in url.netloc
        or port not in (None, 443)
        or not _HOST.fullmatch(host)
        or host not in {h.lower() for h in allowed_hosts}
    ):
        return Refusal("qr.host_not_allowed")
    alias = _alias_from(url.path, url.fragment)
    if alias is None:
        return Refusal("qr.bad_link")
    return JoinTarget(alias=alias, host=host)


def _alias_from(path: str, fragment: str) -> str | None:
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) == 3 and parts[:2] == ["webapp", "conference"] and _ALIAS.fullmatch(parts[2]):
        return parts[2]
    if parts in (["webapp"], []) and fragment.startswith("/?"):
        values = parse_qs(fragment[2:]).get("conference", [])
        if len(values) == 1 and _ALIAS.fullmatch(values[0]):
            return values[0]
    return None
