"""Signed configuration bundles: what IT signs and what a terminal accepts.

A bundle is one JSON object: the signed payload (version, site, issue time, the TOML text),
the signer's public key and an Ed25519 signature over the payload's canonical bytes. A terminal
trusts the key only if its fingerprint is the one it was enrolled with.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import ConfigError, ConfigMalformed, KioskConfig, config_from_text
from kiosk.fleet.keys import (
    KeyFormatError,
    b64url,
    b64url_decode,
    fingerprint,
    parse_public_key,
    public_key_text,
)

FORMAT = "kiosk-config-bundle/1"
# Signed bytes start with the format name, so a signature can never be replayed as another
# kind of signed object.
_DOMAIN = FORMAT.encode("ascii") + b"\n"
MAX_BUNDLE_BYTES = 256 * 1024


class Reason(enum.Enum):
    MALFORMED = "malformed"
    UNSIGNED = "unsigned"
    UNTRUSTED_KEY = "untrusted-key"
    BAD_SIGNATURE = "bad-signature"
    NOT_NEWER = "not-newer"
    WRONG_SITE = "wrong-site"
    INVALID_CONFIG = "invalid-config"


class BundleRefused(ValueError):
    """A bundle the terminal will not apply; `reason` says which check failed."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"bundle refused ({reason.value}): {message}")
        self.reason = reason


@dataclass(frozen=True)
class Payload:
    version: int
    site: str
    issued_at: str
    config: str

    def canonical_bytes(self) -> bytes:
        body = json.dumps(
            {
                "config": self.config,
                "issued_at": self.issued_at,
                "site": self.site,
                "version": self.version,
            },
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return _DOMAIN + body.encode("utf-8")


@dataclass(frozen=True)
class VerifiedBundle:
    payload: Payload
    config: KioskConfig
    signer_fingerprint: str
    raw: bytes


def utc_now_text() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sign_bundle(
    key: Ed25519PrivateKey,
    *,
    version: int,
    site: str,
    config_text: str,
    issued_at: str | None = None,
) -> bytes:
    """The bundle file's bytes. The TOML is checked first: IT never ships a broken config."""
    payload = Payload(version, site, issued_at or utc_now_text(), config_text)
    _check_payload_fields(payload)
    _check_config(payload)
    body = {
        "format": FORMAT,
        "payload": {
            "version": payload.version,
            "site": payload.site,
            "issued_at": payload.issued_at,
            "config": payload.config,
        },
        "public_key": public_key_text(key.public_key()),
        "signature": b64url(key.sign(payload.canonical_bytes())),
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8") + b"\n"


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise BundleRefused(Reason.MALFORMED, f"duplicate JSON keys in {sorted(keys)}")
    return dict(pairs)


def _object(value: object, what: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BundleRefused(
            Reason.MALFORMED, f"{what}: expected an object, got {type(value).__name__}"
        )
    if set(value) != keys:
        raise BundleRefused(
            Reason.MALFORMED, f"{what}: expected keys {sorted(keys)}, got {sorted(value)}"
        )
    return value


def _check_payload_fields(payload: Payload) -> None:
    if isinstance(payload.version, bool) or not isinstance(payload.version, int):
        raise BundleRefused(
            Reason.MALFORMED, f"version: expected an integer, got {payload.version!r}"
        )
    if payload.version < 1:
        raise BundleRefused(Reason.MALFORMED, f"version: expected 1 or more, got {payload.version}")
    for name in ("site", "issued_at", "config"):
        if not isinstance(getattr(payload, name), str):
            raise BundleRefused(Reason.MALFORMED, f"{name}: expected a string")
    try:
        when = dt.datetime.fromisoformat(payload.issued_at)
    except ValueError as exc:
        raise BundleRefused(
            Reason.MALFORMED, f"issued_at: expected an ISO 8601 time, got {payload.issued_at!r}"
        ) from exc
    if when.tzinfo is None:
        raise BundleRefused(Reason.MALFORMED, "issued_at: expected a time zone (UTC, 'Z')")


def _check_config(payload: Payload) -> KioskConfig:
    try:
        config = config_from_text(payload.config, "config")
    except ConfigMalformed as exc:
        raise BundleRefused(Reason.MALFORMED, str(exc)) from exc
    except ConfigError as exc:
        raise BundleRefused(Reason.INVALID_CONFIG, str(exc)) from exc
    if config.site != payload.site:
        raise BundleRefused(
            Reason.INVALID_CONFIG,
            f"config site {config.site!r} differs from the bundle's site {payload.site!r}",
        )
    return config


def verify_bundle(
    raw: bytes,
    *,
    trusted_fingerprint: str,
    site: str,
    current_version: int | None,
) -> VerifiedBundle:
    """Check everything, in the order that gives the most useful reason; raise BundleRefused."""
    if len(raw) > MAX_BUNDLE_BYTES:
        raise BundleRefused(
            Reason.MALFORMED, f"expected at most {MAX_BUNDLE_BYTES} bytes, got {len(raw)}"
        )
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleRefused(Reason.MALFORMED, f"expected UTF-8 JSON ({exc})") from exc
    except RecursionError:
        raise BundleRefused(
            Reason.MALFORMED, "expected JSON nested a few levels, got far deeper"
        ) from None
    if isinstance(doc, dict) and "signature" not in doc and "payload" in doc:
        raise BundleRefused(Reason.UNSIGNED, "no signature")
    doc = _object(doc, "bundle", {"format", "payload", "public_key", "signature"})
    if doc["format"] != FORMAT:
        raise BundleRefused(Reason.MALFORMED, f"format: expected {FORMAT!r}, got {doc['format']!r}")
    body = _object(doc["payload"], "payload", {"version", "site", "issued_at", "config"})
    payload = Payload(body["version"], body["site"], body["issued_at"], body["config"])
    _check_payload_fields(payload)
    if not isinstance(doc["signature"], str) or not doc["signature"]:
        raise BundleRefused(Reason.UNSIGNED, "empty signature")
    if not isinstance(doc["public_key"], str):
        raise BundleRefused(Reason.MALFORMED, "public_key: expected a string")
    try:
        key = parse_public_key(doc["public_key"])
        signature = b64url_decode(doc["signature"], "signature")
    except KeyFormatError as exc:
        raise BundleRefused(Reason.MALFORMED, str(exc)) from exc
    signer = fingerprint(key)
    if signer != trusted_fingerprint:
        raise BundleRefused(
            Reason.UNTRUSTED_KEY,
            f"signer fingerprint {signer} is not the enrolled {trusted_fingerprint}",
        )
    try:
        key.verify(signature, payload.canonical_bytes())
    except InvalidSignature as exc:
        raise BundleRefused(
            Reason.BAD_SIGNATURE, "the signature does not match the payload"
        ) from exc
    if payload.site != site:
        raise BundleRefused(
            Reason.WRONG_SITE, f"bundle is for site {payload.site!r}, this terminal is in {site!r}"
        )
    if current_version is not None and payload.version <= current_version:
        raise BundleRefused(
            Reason.NOT_NEWER,
            f"version {payload.version} is not newer than the current {current_version}",
        )
    config = _check_config(payload)
    return VerifiedBundle(payload, config, signer, raw)
