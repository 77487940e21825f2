from __future__ import annotations

import json
import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.config import load_config
from kiosk.fleet.bundle import BundleRefused, Reason
from kiosk.fleet.enrolment import Enrolment, EnrolmentError
from kiosk.fleet.keys import fingerprint, public_key_text
from kiosk.fleet.pull import FetchError, Outcome, enrol, pull
from kiosk.fleet.store import ConfigStore

from .conftest import SITE, make_bundle, site_toml
from .tls import make_server_tls


@dataclass
class BundleServer:
    """What the fleet server hands out; tests swap it between pulls."""

    body: bytes = b""
    status: int = 200
    requests: list[str] = field(default_factory=list)
    url: str = ""


async def _serve(server: BundleServer, tls: ssl.SSLContext | None) -> AsyncIterator[BundleServer]:
    async def handle(request: web.Request) -> web.Response:
        server.requests.append(request.path)
        return web.Response(body=server.body, status=server.status)

    app = web.Application()
    app.router.add_get("/sites/{site}/bundle.json", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    scheme = "https" if tls else "http"
    server.url = f"{scheme}://127.0.0.1:{port}/sites/{SITE}/bundle.json"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
async def http_server() -> AsyncIterator[BundleServer]:
    async for s in _serve(BundleServer(), None):
        yield s


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    return make_server_tls(tmp_path)


@pytest.fixture
async def https_server(tls: tuple[ssl.SSLContext, Path]) -> AsyncIterator[BundleServer]:
    async for s in _serve(BundleServer(), tls[0]):
        yield s


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


async def enrolled(store: ConfigStore, url: str, fp: str, key: Ed25519PrivateKey) -> None:
    store.save_enrolment(Enrolment(url, fp, SITE, "kiosk-03"))


async def test_pull_over_https_applies_newer_bundles_and_keeps_the_last_good(
    https_server: BundleServer,
    tls: tuple[ssl.SSLContext, Path],
    signer: Ed25519PrivateKey,
    signer_fp: str,
    config_dir: Path,
) -> None:
    ca = tls[1]
    store = ConfigStore(config_dir)
    await enrolled(store, https_server.url, signer_fp, signer)
    history: list[tuple[str, str]] = []

    async def attempt() -> None:
        try:
            result = await pull(store, ca)
            history.append((result.outcome.value, str(result.version)))
        except BundleRefused as exc:
            history.append(("refused", exc.reason.value))
        history.append(("config", load_config(store.config_path).clinic_phone))

    https_server.body = make_bundle(signer, 1, config=site_toml(phone="first"))
    await attempt()
    await attempt()
    good = snapshot(config_dir)
    https_server.body = make_bundle(signer, 1, config=site_toml(phone="replayed"))
    await attempt()
    https_server.body = make_bundle(Ed25519PrivateKey.generate(), 2)
    await attempt()
    https_server.body = make_bundle(signer, 2, site="bodo")
    await attempt()
    tampered = make_bundle(signer, 2, config=site_toml(phone="second"))
    https_server.body = tampered.replace(b"second", b"secund")
    await attempt()
    https_server.body = json.dumps(
        {k: v for k, v in json.loads(tampered).items() if k != "signature"}
    ).encode()
    await attempt()
    assert snapshot(config_dir) == good
    https_server.body = tampered
    await attempt()

    assert history == [
        ("applied", "1"), ("config", "first"),
        ("unchanged", "1"), ("config", "first"),
        ("refused", "not-newer"), ("config", "first"),
        ("refused", "untrusted-key"), ("config", "first"),
        ("refused", "wrong-site"), ("config", "first"),
        ("refused", "bad-signature"), ("config", "first"),
        ("refused", "unsigned"), ("config", "first"),
        ("applied", "2"), ("config", "second"),
    ]  # fmt: skip
    # The terminal's own name is added; the previous config is kept beside the new one.
    assert load_config(store.config_path).terminal == "kiosk-03"
    assert load_config(config_dir / "kiosk.toml.previous").clinic_phone == "first"
    assert oct(os.stat(store.config_path).st_mode & 0o777) == "0o640"
    assert not [p for p in config_dir.iterdir() if p.name.endswith(".tmp")]


async def test_https_without_the_sites_ca_is_refused_and_nothing_changes(
    https_server: BundleServer, signer: Ed25519PrivateKey, signer_fp: str, config_dir: Path
) -> None:
    store = ConfigStore(config_dir)
    await enrolled(store, https_server.url, signer_fp, signer)
    https_server.body = make_bundle(signer, 1)
    before = snapshot(config_dir)
    with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        await pull(store)
    assert snapshot(config_dir) == before


async def test_plain_http_is_allowed_to_loopback_only_and_errors_change_nothing(
    http_server: BundleServer, signer: Ed25519PrivateKey, signer_fp: str, config_dir: Path
) -> None:
    store = ConfigStore(config_dir)
    await enrolled(store, http_server.url, signer_fp, signer)
    http_server.body = make_bundle(signer, 7)
    assert (await pull(store)).outcome is Outcome.APPLIED
    before = snapshot(config_dir)
    http_server.status = 404
    with pytest.raises(FetchError, match="expected HTTP 200, got 404"):
        await pull(store)
    http_server.status = 200
    http_server.body = b"x" * (300 * 1024)
    with pytest.raises(FetchError, match="at most"):
        await pull(store)
    assert snapshot(config_dir) == before
    with pytest.raises(EnrolmentError, match="https"):
        Enrolment("http://fleet.example.org/b.json", signer_fp, SITE, "kiosk-03")


async def test_first_pull_refuses_a_bundle_whose_key_is_not_the_enrolled_one(
    http_server: BundleServer, signer: Ed25519PrivateKey, signer_fp: str, config_dir: Path
) -> None:
    store = ConfigStore(config_dir)
    enrolment = Enrolment(http_server.url, signer_fp, SITE, "kiosk-07")
    http_server.body = make_bundle(Ed25519PrivateKey.generate(), 1)
    with pytest.raises(BundleRefused) as info:
        await enrol(store, enrolment)
    assert info.value.reason is Reason.UNTRUSTED_KEY
    assert snapshot(config_dir) == {}  # not enrolled, nothing written
    http_server.body = make_bundle(signer, 1)
    assert (await enrol(store, enrolment)).version == 1
    assert store.enrolment() == enrolment
    assert load_config(store.config_path).terminal == "kiosk-07"
    other = Enrolment(http_server.url, signer_fp, "bodo", "kiosk-07")
    with pytest.raises(EnrolmentError, match="already enrolled"):
        await enrol(store, other)


async def test_an_installed_signer_key_must_match_the_enrolment(
    http_server: BundleServer, signer: Ed25519PrivateKey, signer_fp: str, config_dir: Path
) -> None:
    store = ConfigStore(config_dir)
    await enrolled(store, http_server.url, signer_fp, signer)
    (config_dir / "signer.pub").write_text(public_key_text(signer.public_key()) + "\n")
    http_server.body = make_bundle(signer, 1)
    assert (await pull(store)).outcome is Outcome.APPLIED
    other = Ed25519PrivateKey.generate()
    (config_dir / "signer.pub").write_text(public_key_text(other.public_key()))
    http_server.body = make_bundle(signer, 2)
    with pytest.raises(BundleRefused, match=fingerprint(other.public_key())):
        await pull(store)
    assert store.current_version() == 1
