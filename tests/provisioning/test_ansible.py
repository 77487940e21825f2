"""The Ansible role, for real: linted, and applied twice to a fresh Debian 12 root."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.fleet.enrolment import enrolment_from_json
from kiosk.fleet.keys import fingerprint, public_key_text

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "provisioning" / "ansible"
BIN = Path(sys.executable).parent
MIRROR = os.environ.get("KIOSK_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def _env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
    }


def test_role_and_playbooks_pass_ansible_lint(tmp_path: Path) -> None:
    result = subprocess.run(
        [BIN / "ansible-lint", "--offline", "site.yml", "update.yml", "roles/kiosk"],
        cwd=ANSIBLE_DIR,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s), 0 warning(s)" in result.stdout + result.stderr


def _minbase_root() -> Path:
    """A debootstrap minbase of bookworm, made once a day and copied for each run."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "clinic-kiosk"
    root = cache / f"bookworm-minbase-{dt.date.today():%Y%m%d}"
    if not (root / ".complete").exists():
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        subprocess.run(
            ["debootstrap", "--variant=minbase", "bookworm", str(root), MIRROR],
            check=True,
            capture_output=True,
            timeout=600,
        )
        (root / ".complete").touch()
    return root


def _recap(output: str) -> dict[str, int]:
    match = re.search(
        r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M
    )
    assert match, output[-3000:]
    ok, changed, unreachable, failed = map(int, match.groups())
    return {"ok": ok, "changed": changed, "unreachable": unreachable, "failed": failed}


def _install_a_display_manager(root: Path) -> None:
    """A desktop image's state: lightdm enabled as the display manager, graphical boot."""
    units = root / "lib/systemd/system"
    (units / "lightdm.service").write_text(
        "[Unit]\nDescription=Light Display Manager\n\n[Service]\nExecStart=/usr/sbin/lightdm\n"
        "\n[Install]\nAlias=display-manager.service\n"
    )
    etc = root / "etc/systemd/system"
    (etc / "display-manager.service").symlink_to("/lib/systemd/system/lightdm.service")
    default = etc / "default.target"
    default.unlink(missing_ok=True)
    default.symlink_to("/lib/systemd/system/graphical.target")


def _assert_locked_down(root: Path) -> None:
    etc = root / "etc/systemd/system"
    for unit in ("ctrl-alt-del.target", "getty@tty1.service"):
        assert os.readlink(etc / unit) == "/dev/null", f"{unit} is not masked"
    assert os.readlink(etc / "default.target") == "/lib/systemd/system/multi-user.target"
    assert not (etc / "display-manager.service").is_symlink()
    assert not list(etc.glob("*.wants/lightdm.service"))
    assert "consoleblank=0" in (root / "etc/default/grub.d/kiosk.cfg").read_text()
    audit = subprocess.run(
        [BIN / "kiosk", "audit", "--root", str(root), "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    report = json.loads(audit.stdout)
    failed = {r["id"]: r["detail"] for r in report["rules"] if not r["ok"]}
    assert failed == {}, failed
    assert audit.returncode == 0 and report["ok"] is True
    judged = {r["id"] for r in report["rules"]}
    assert {"ctrl-alt-del", "getty-tty1", "no-display-manager", "console-blank"} <= judged


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_playbook_provisions_a_fresh_debian_root_and_is_idempotent(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("the chroot test needs root (debootstrap, chroot)")
    root = tmp_path / "root"
    subprocess.run(["cp", "-a", str(_minbase_root()), str(root)], check=True)
    _install_a_display_manager(root)
    # Built from a copy, so the build leaves nothing in the working tree.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source)
    shutil.copytree(REPO / "kiosk", source / "kiosk", ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    wheel = next(wheels.glob("clinic_kiosk-*.whl"))
    key = Ed25519PrivateKey.generate()
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[kiosks]\n"
        f"{root} ansible_connection=community.general.chroot "
        "ansible_python_interpreter=/usr/bin/python3\n"
    )
    extra = {
        "kiosk_repo_dir": str(REPO),
        "kiosk_wheel": str(wheel),
        "kiosk_install_dependencies": False,
        "kiosk_site": "tromso-helsestasjon",
        "kiosk_terminal": "kiosk-01",
        "kiosk_config_url": "https://fleet.clinic.example/sites/tromso-helsestasjon/bundle.json",
        "kiosk_signer_public_key": public_key_text(key.public_key()),
        "kiosk_signer_fingerprint": fingerprint(key.public_key()),
    }
    command = [BIN / "ansible-playbook", "-i", str(inventory), "-e", json.dumps(extra), "site.yml"]
    runs = []
    for _ in range(2):
        result = subprocess.run(
            command, cwd=ANSIBLE_DIR, env=_env(tmp_path), capture_output=True, text=True,
            timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
        runs.append(_recap(result.stdout))
    assert runs[0]["changed"] > 5 and runs[0]["failed"] == 0
    assert runs[1]["changed"] == 0 and runs[1]["failed"] == 0, runs

    _assert_locked_down(root)
    groups = subprocess.run(
        ["chroot", str(root), "id", "-nG", "kiosk"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"kiosk", "video", "audio", "input", "render"} <= set(groups)
    assert os.readlink(root / "opt/kiosk/current") == "/opt/kiosk/0.1.0"
    site_packages = list((root / "opt/kiosk/0.1.0/lib").glob("python3*/site-packages/kiosk/fleet"))
    assert site_packages, "the application is not in the versioned venv"
    enrolment = enrolment_from_json((root / "etc/kiosk/enrolment.json").read_text())
    assert (enrolment.site, enrolment.terminal) == ("tromso-helsestasjon", "kiosk-01")
    assert (root / "etc/kiosk/signer.pub").read_text().strip() == extra["kiosk_signer_public_key"]
    units = root / "etc/systemd/system"
    assert (units / "timers.target.wants/kiosk-config-pull.timer").is_symlink()
    assert (units / "kiosk.service").exists()
    analyse = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", f"--root={root}",
         "kiosk-config-pull.service"],
        capture_output=True, text=True,
    )  # fmt: skip
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d)", analyse.stdout)
    assert score and float(score.group(1)) < 3.0, analyse.stdout[-2000:] + analyse.stderr
