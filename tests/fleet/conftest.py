from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.fleet.bundle import sign_bundle
from kiosk.fleet.keys import fingerprint

SITE = "tromso-helsestasjon"


def site_toml(site: str = SITE, phone: str = "Call the clinic") -> str:
    return (
        f'site = "{site}"\n'
        'node_url = "https://join.nhn.no"\n'
        'allowed_hosts = ["join.nhn.no"]\n'
        f'clinic_phone = "{phone}"\n'
        "\n[[turn_servers]]\n"
        'url = "turns:turn.example.org:443"\n'
        'username = "kiosk"\n'
    )


@pytest.fixture
def signer() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def signer_fp(signer: Ed25519PrivateKey) -> str:
    return fingerprint(signer.public_key())


def make_bundle(
    key: Ed25519PrivateKey, version: int, *, site: str = SITE, config: str | None = None
) -> bytes:
    return sign_bundle(
        key,
        version=version,
        site=site,
        config_text=config if config is not None else site_toml(site),
        issued_at="2026-11-27T08:00:00Z",
    )


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    d = tmp_path / "etc-kiosk"
    d.mkdir()
    return d
