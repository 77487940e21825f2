"""Fetching a bundle from the fleet server and installing it if, and only if, it passes."""

from __future__ import annotations

import enum
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from kiosk.fleet.bundle import (
    MAX_BUNDLE_BYTES,
    BundleRefused,
    Reason,
    VerifiedBundle,
    verify_bundle,
)
from kiosk.fleet.enrolment import Enrolment, EnrolmentError, check_config_url
from kiosk.fleet.keys import fingerprint, parse_public_key
from kiosk.fleet.store import ConfigStore

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 30.0


class FetchError(RuntimeError):
    """The bundle could not be downloaded; the current configuration stays."""


class Outcome(enum.Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class PullResult:
    outcome: Outcome
    version: int


def ssl_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """Certificate and host name verification always on; `ca_file` replaces the system store
    for a site with its own CA."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


async def fetch_bundle(url: str, ca_file: Path | None = None) -> bytes:
    try:
        check_config_url(url)
    except EnrolmentError as exc:
        raise FetchError(str(exc)) from exc
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(url, ssl=ssl_context(ca_file), allow_redirects=False) as response,
        ):
            if response.status != 200:
                raise FetchError(f"GET config bundle: expected HTTP 200, got {response.status}")
            data = b""
            while chunk := await response.content.read(64 * 1024):
                data += chunk
                if len(data) > MAX_BUNDLE_BYTES:
                    break
    except (aiohttp.ClientError, TimeoutError, ssl.SSLError) as exc:
        raise FetchError(f"GET config bundle failed: {type(exc).__name__}: {exc}") from exc
    if len(data) > MAX_BUNDLE_BYTES:
        raise FetchError(f"config bundle: expected at most {MAX_BUNDLE_BYTES} bytes, got more")
    return data


def check_bundle(raw: bytes, store: ConfigStore, enrolment: Enrolment) -> VerifiedBundle:
    """Every check a bundle must pass on this terminal, against its current state."""
    pinned = store.pinned_public_key()
    if pinned is not None:
        pinned_fp = fingerprint(parse_public_key(pinned))
        if pinned_fp != enrolment.signer_fingerprint:
            raise BundleRefused(
                Reason.UNTRUSTED_KEY,
                f"installed signer key {pinned_fp} differs from the enrolled "
                f"{enrolment.signer_fingerprint}",
            )
    return verify_bundle(
        raw,
        trusted_fingerprint=enrolment.signer_fingerprint,
        site=enrolment.site,
        current_version=store.current_version(),
    )


async def pull(store: ConfigStore, ca_file: Path | None = None) -> PullResult:
    """One pull as the timer runs it. Raises FetchError, BundleRefused or EnrolmentError;
    in each case nothing on disk has changed."""
    enrolment = store.require_enrolment()
    raw = await fetch_bundle(enrolment.config_url, ca_file)
    current = store.current_bundle()
    if current is not None and raw == current:
        version = store.current_version()
        return PullResult(Outcome.UNCHANGED, version or 0)
    bundle = check_bundle(raw, store, enrolment)
    store.apply(bundle, enrolment.terminal)
    log.info("configuration version %s applied", bundle.payload.version)
    return PullResult(Outcome.APPLIED, bundle.payload.version)


async def enrol(
    store: ConfigStore, enrolment: Enrolment, ca_file: Path | None = None
) -> PullResult:
    """First pull for a freshly scanned enrolment: the terminal is enrolled only if the
    server's bundle is signed by the key whose fingerprint the QR code carried."""
    existing = store.enrolment()
    if existing == enrolment:
        return await pull(store, ca_file)
    if existing is not None:
        raise EnrolmentError(
            f"already enrolled as {existing.terminal!r} at site {existing.site!r}; "
            "remove the enrolment file to enrol again"
        )
    raw = await fetch_bundle(enrolment.config_url, ca_file)
    bundle = check_bundle(raw, store, enrolment)
    store.save_enrolment(enrolment)
    store.apply(bundle, enrolment.terminal)
    log.info("enrolled; configuration version %s applied", bundle.payload.version)
    return PullResult(Outcome.APPLIED, bundle.payload.version)
