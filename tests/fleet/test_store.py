"""The configuration directory: the highest version ever accepted survives damage to the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.fleet.bundle import BundleRefused, Reason, verify_bundle
from kiosk.fleet.keys import fingerprint
from kiosk.fleet.store import BUNDLE, HIGHEST_VERSION, ConfigStore

from .conftest import SITE, make_bundle


def _apply(store: ConfigStore, key: Ed25519PrivateKey, version: int) -> None:
    raw = make_bundle(key, version)
    bundle = verify_bundle(
        raw,
        trusted_fingerprint=fingerprint(key.public_key()),
        site=SITE,
        current_version=store.current_version(),
    )
    store.apply(bundle, "kiosk-1")


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"payload": {"version": 1}}', None])
def test_a_damaged_bundle_json_does_not_let_an_older_bundle_back_in(
    config_dir: Path, signer: Ed25519PrivateKey, damage: bytes | None
) -> None:
    store = ConfigStore(config_dir)
    _apply(store, signer, 3)
    _apply(store, signer, 7)
    assert (config_dir / HIGHEST_VERSION).read_text().strip() == "7"
    if damage is None:
        (config_dir / BUNDLE).unlink()
    else:
        (config_dir / BUNDLE).write_bytes(damage)
    assert store.current_version() == 7
    with pytest.raises(BundleRefused) as info:
        _apply(store, signer, 3)
    assert info.value.reason is Reason.NOT_NEWER
    _apply(store, signer, 8)
    assert store.current_version() == 8
    assert (config_dir / HIGHEST_VERSION).read_text().strip() == "8"


def test_a_damaged_highest_version_file_falls_back_to_the_bundle(
    config_dir: Path, signer: Ed25519PrivateKey
) -> None:
    store = ConfigStore(config_dir)
    _apply(store, signer, 4)
    (config_dir / HIGHEST_VERSION).write_text("garbage")
    assert store.current_version() == 4
    with pytest.raises(BundleRefused):
        _apply(store, signer, 2)
