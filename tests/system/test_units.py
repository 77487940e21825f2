"""The shipped units pass systemd's own tooling: `verify` and the offline security score."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .trees import SHIPPED, write

UNITS = ["kiosk.service", "kiosk-cage.service", "kiosk-out-of-order.service"]
HOST_UNITS = Path("/lib/systemd/system")
# Binaries the units start; `verify` insists they exist and are executable.
BINARIES = ["opt/kiosk/current/bin/kiosk", "opt/kiosk/current/bin/python", "usr/bin/cage"]
MAX_EXPOSURE = {"kiosk.service": 1.5, "kiosk-cage.service": 1.6, "kiosk-out-of-order.service": 1.0}


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(SHIPPED / "etc", root / "etc")
    # The stock units the kiosk's depend on (sysinit.target, getty@.service...).
    shutil.copytree(HOST_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for rel in BINARIES:
        write(root, rel, "#!/bin/sh\n").chmod(0o755)
    return root


def _verify(root: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", f"--root={root}", *units],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_units_verify_clean(tmp_path: Path) -> None:
    done = _verify(_root(tmp_path), *UNITS)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_verify_catches_a_missing_binary_and_a_typo(tmp_path: Path) -> None:
    root = _root(tmp_path)
    (root / "opt/kiosk/current/bin/kiosk").unlink()
    unit = root / "etc/systemd/system/kiosk.service"
    unit.write_text(unit.read_text().replace("ProtectHome=yes", "ProtectHoem=yes"))
    done = _verify(root, "kiosk.service")
    assert done.returncode != 0
    assert "Unknown key name 'ProtectHoem'" in done.stderr or "ProtectHoem" in done.stderr
    assert "/opt/kiosk/current/bin/kiosk is not executable" in done.stderr


def _exposure(path: Path) -> float:
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert match, f"no score in: {done.stdout[-500:]} {done.stderr}"
    return float(match.group(1))


@pytest.mark.parametrize("unit", UNITS)
def test_exposure_within_budget(unit: str) -> None:
    score = _exposure(SHIPPED / "etc/systemd/system" / unit)
    assert score <= MAX_EXPOSURE[unit], f"{unit} scores {score}"


def test_the_score_sees_weakening(tmp_path: Path) -> None:
    text = (SHIPPED / "etc/systemd/system/kiosk.service").read_text()
    weak = tmp_path / "kiosk.service"
    weak.write_text(
        text.replace("ProtectSystem=strict", "ProtectSystem=no").replace(
            "CapabilityBoundingSet=\n", ""
        )
    )
    assert _exposure(weak) > MAX_EXPOSURE["kiosk.service"] + 0.5
