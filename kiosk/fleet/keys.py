"""Ed25519 signer keys and their fingerprints, in the text forms IT handles."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FINGERPRINT_PREFIX = "sha256:"
FINGERPRINT_PATTERN = re.compile(r"sha256:[A-Za-z0-9_-]{43}")


class KeyFormatError(ValueError):
    """A key or fingerprint text is not what was expected."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """Strict: only the one canonical spelling of the bytes is accepted, so an altered
    character can never decode to the same value."""
    if not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise KeyFormatError(f"{what}: expected base64url text, got characters outside it")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise KeyFormatError(f"{what}: expected base64url text ({exc})") from exc
    if b64url(raw) != text:
        raise KeyFormatError(f"{what}: not the canonical base64url spelling")
    return raw


def public_key_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64url(raw)


def parse_public_key(text: str) -> Ed25519PublicKey:
    raw = b64url_decode(text.strip(), "public key")
    if len(raw) != 32:
        raise KeyFormatError(f"public key: expected 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return FINGERPRINT_PREFIX + b64url(hashlib.sha256(raw).digest())


def check_fingerprint(text: str) -> str:
    if not FINGERPRINT_PATTERN.fullmatch(text):
        raise KeyFormatError(
            f"fingerprint: expected 'sha256:' and 43 base64url characters, got {text!r}"
        )
    return text


def generate_key(path: Path) -> Ed25519PrivateKey:
    """Write a new private key (PEM, mode 0600) to `path` and its public key to `path`.pub."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    path.with_name(path.name + ".pub").write_text(public_key_text(key.public_key()) + "\n")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFormatError(
            f"{path.name}: expected an unencrypted PEM private key ({exc})"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFormatError(f"{path.name}: expected an Ed25519 key, got {type(key).__name__}")
    return key
