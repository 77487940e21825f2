"""Staff PINs as salted scrypt hashes: `scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64url).

IT puts only the hash in the configuration (`kiosk pin-hash` makes one); the terminal checks
a typed PIN against it. scrypt is deliberately slow, so checks run off the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

N, R, P = 2**14, 8, 1
_PREFIX = "scrypt"


class PinHashError(ValueError):
    """The configured hash is not in the expected format."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_pin(pin: str, *, n: int = N, r: int = R, p: int = P) -> str:
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError(f"a PIN must be 4 to 12 digits (got {len(pin)} characters)")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"{_PREFIX}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def check_pin(pin: str, stored: str) -> bool:
    """True only when `pin` matches `stored`; an empty `stored` (no PIN configured) never
    matches, so staff modes stay shut on a terminal IT has not set up."""
    if not stored:
        return False
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        raise PinHashError("expected scrypt$n$r$p$salt$hash (got another format)")
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
    except ValueError as exc:
        raise PinHashError(f"the PIN hash has a malformed field: {exc}") from exc
    digest = hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**27
    )
    return hmac.compare_digest(digest, expected)
