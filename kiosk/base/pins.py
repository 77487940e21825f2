"""Staff PINs as salted scrypt hashes: `scrypt$<n>$<r>$<p>$<salt>$<hash>` (base64url).

IT puts only the hash in the configuration (`kiosk pin-hash` makes one); the terminal checks
a typed PIN against it. scrypt is deliberately slow, so checks run off the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import secrets
import time
from pathlib import Path

N, R, P = 2**14, 8, 1
_PREFIX = "scrypt"


class PinHashError(ValueError):
    """The configured hash is not in the expected format."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# Six digits at least: with scrypt at about 55 ms a guess, a stolen hash of a four-digit PIN
# falls in minutes offline, one of six digits takes more than half a day on one core.
MIN_PIN_DIGITS, MAX_PIN_DIGITS = 6, 12


def hash_pin(pin: str, *, n: int = N, r: int = R, p: int = P) -> str:
    if not pin.isdigit() or not MIN_PIN_DIGITS <= len(pin) <= MAX_PIN_DIGITS:
        raise ValueError(
            f"a staff PIN must be {MIN_PIN_DIGITS} to {MAX_PIN_DIGITS} digits "
            f"(got {len(pin)} characters)"
        )
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"{_PREFIX}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


# What a terminal will spend on one check: scrypt needs 128·n·r bytes and time roughly in n·r·p.
# Hashes beyond this are refused when the configuration loads, not at a nurse's first PIN.
MIN_N, MAX_MEMORY_BYTES, MAX_WORK = 2**14, 64 * 2**20, 2**21
_MAX_P, _MIN_SALT, _DIGEST_BYTES = 4, 16, (16, 64)


def parse_pin_hash(stored: str, *, min_n: int = 2) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, digest) of a stored hash, or PinHashError naming what is wrong."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != _PREFIX:
        raise PinHashError("expected scrypt$n$r$p$salt$hash (got another format)")
    try:
        if not all(x.isdigit() and len(x) <= 10 for x in parts[1:4]):
            raise ValueError("n, r and p must be whole numbers")
        n, r, p = (int(x) for x in parts[1:4])
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
    except ValueError as exc:
        raise PinHashError(f"the PIN hash has a malformed field: {exc}") from exc
    if n < min_n or n & (n - 1):
        raise PinHashError(f"n must be a power of two of at least {min_n} (got {n})")
    if r < 1 or 128 * n * r > MAX_MEMORY_BYTES:
        raise PinHashError(
            f"n and r must need at most {MAX_MEMORY_BYTES // 2**20} MiB (got n={n}, r={r})"
        )
    if not 1 <= p <= _MAX_P or n * r * p > MAX_WORK * 8:
        raise PinHashError(f"p must be 1-{_MAX_P} within the time budget (got {p})")
    if len(salt) < _MIN_SALT:
        raise PinHashError(f"the salt must be at least {_MIN_SALT} bytes (got {len(salt)})")
    if not _DIGEST_BYTES[0] <= len(expected) <= _DIGEST_BYTES[1]:
        raise PinHashError(f"the hash must be 16-64 bytes (got {len(expected)})")
    return n, r, p, salt, expected


def check_pin(pin: str, stored: str) -> bool:
    """True only when `pin` matches `stored`; an empty `stored` (no PIN configured) never
    matches, so staff modes stay shut on a terminal IT has not set up."""
    if not stored:
        return False
    n, r, p, salt, expected = parse_pin_hash(stored)
    digest = hashlib.scrypt(
        pin.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=2**27
    )
    return hmac.compare_digest(digest, expected)


ATTEMPTS_FILE = "pin-attempts.json"


def runtime_directory() -> Path | None:
    """Where the PIN pad's failures are kept: the runtime directory systemd gives the kiosk
    unit (`RuntimeDirectory=kiosk`: tmpfs, cleared at boot, never persistent storage), or
    None when the kiosk runs outside its unit (the demo, tests)."""
    value = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(value) if value and Path(value).is_dir() else None


def load_attempts(directory: Path | None, lockout_s: float) -> tuple[int, float]:
    """(failures, seconds still locked) as the last run left them; (0, 0) if unknown. Damage
    is read as a full lockout rather than as a fresh start, so breaking the file gains
    nothing."""
    if directory is None:
        return 0, 0.0
    path = directory / ATTEMPTS_FILE
    try:
        data = json.loads(path.read_text(encoding="ascii"))
        failures, remaining, saved_at = data["failures"], data["locked_s"], data["saved_at"]
        if not all(isinstance(v, int | float) and not isinstance(v, bool)
                   for v in (failures, remaining, saved_at)):  # fmt: skip
            raise ValueError("wrong types")
        if not (0 <= failures <= 1000 and math.isfinite(remaining) and math.isfinite(saved_at)):
            raise ValueError("out of range")
    except FileNotFoundError:
        return 0, 0.0
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return 1, lockout_s
    left = remaining - max(0.0, time.time() - saved_at)
    return int(failures), min(max(0.0, left), lockout_s)


def save_attempts(directory: Path | None, failures: int, locked_s: float) -> None:
    if directory is None:
        return
    path = directory / ATTEMPTS_FILE
    if failures == 0 and locked_s <= 0:
        path.unlink(missing_ok=True)
        return
    data = json.dumps(
        {"failures": failures, "locked_s": max(0.0, locked_s), "saved_at": time.time()}
    )
    tmp = path.with_name(f".{ATTEMPTS_FILE}.tmp")
    tmp.write_text(data, encoding="ascii")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
