from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.fleet.cli import main

from .conftest import site_toml


def test_it_side_round_trip_keygen_sign_verify_and_qr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "signer.key"
    assert main(["config", "keygen", "--key", str(key)]) == 0
    fp = capsys.readouterr().out.strip()
    assert (key.stat().st_mode & 0o777) == 0o600
    assert main(["config", "fingerprint", str(key) + ".pub"]) == 0
    assert capsys.readouterr().out.strip() == fp
    toml = tmp_path / "site.toml"
    toml.write_text(site_toml())
    out = tmp_path / "bundle.json"
    site = "tromso-helsestasjon"
    assert main(["config", "sign", "--key", str(key), "--site", site, "--version", "4",
                 str(toml), "-o", str(out)]) == 0  # fmt: skip
    assert json.loads(out.read_bytes())["payload"]["version"] == 4
    verify = ["config", "verify", str(out), "--fingerprint", fp, "--site", site]
    assert main(verify) == 0
    assert main([*verify, "--current-version", "4"]) == 1
    assert "not newer than the current 4" in capsys.readouterr().err
    assert main(["config", "verify", str(out), "--fingerprint", "sha256:x", "--site", site]) == 2
    assert main(["enrol", "make-qr", "--url", "https://fleet.example.org/b.json",
                 "--public-key", str(key) + ".pub", "--site", site, "--terminal", "k1",
                 "-o", str(tmp_path / "qr.svg")]) == 0  # fmt: skip
    assert (tmp_path / "qr.svg").exists()
    toml.write_text(site_toml() + "bad = 1\n")
    capsys.readouterr()
    assert main(["config", "sign", "--key", str(key), "--site", site, "--version", "5",
                 str(toml), "-o", str(tmp_path / "b2.json")]) == 1  # fmt: skip
    assert "bad" in capsys.readouterr().err
    assert not (tmp_path / "b2.json").exists()


def test_pull_without_enrolment_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "pull", "--config-dir", str(tmp_path)]) == 2
    assert "not enrolled" in capsys.readouterr().err


def test_malformed_input_has_its_own_exit_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "signer.key"
    assert main(["config", "keygen", "--key", str(key)]) == 0
    fp = capsys.readouterr().out.strip()
    deep_json = tmp_path / "deep.json"
    deep_json.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    site = "tromso-helsestasjon"
    assert main(["config", "verify", str(deep_json), "--fingerprint", fp, "--site", site]) == 4
    assert "malformed" in capsys.readouterr().err
    deep_toml = tmp_path / "deep.toml"
    deep_toml.write_text(site_toml() + "x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert main(["config", "sign", "--key", str(key), "--site", site, "--version", "5",
                 str(deep_toml), "-o", str(tmp_path / "b.json")]) == 4  # fmt: skip
    assert "malformed" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


def test_the_pull_unit_counts_every_failure_as_failure() -> None:
    root = Path(__file__).resolve().parents[2]
    unit = root / "provisioning/ansible/roles/kiosk/templates/kiosk-config-pull.service.j2"
    lines = [line.strip() for line in unit.read_text().splitlines()]
    assert any(line.startswith("ExecStart=") for line in lines)
    success = [line for line in lines if line.startswith("SuccessExitStatus=")]
    assert success == [], f"the unit treats {success} as success"
