"""`kiosk audit` over root trees: a locked terminal passes every rule, each break is caught."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kiosk.system.audit import main
from kiosk.system.audit_rules import RULES

from .trees import link, locked_tree, unlocked_tree, write

RULE_IDS = [r.id for r in RULES]


def _audit(root: Path) -> tuple[int, dict[str, dict[str, object]]]:
    out = io.StringIO()
    code = main(["--root", str(root), "--json"], out=out)
    report = json.loads(out.getvalue())
    assert report["root"] == str(root)
    return code, {r["id"]: r for r in report["rules"]}


def test_locked_tree_passes_every_rule(tmp_path: Path) -> None:
    code, rules = _audit(locked_tree(tmp_path))
    assert list(rules) == RULE_IDS
    assert {k: (v["ok"], v["detail"]) for k, v in rules.items() if not v["ok"]} == {}
    assert code == 0


def test_unlocked_tree_fails_every_rule(tmp_path: Path) -> None:
    code, rules = _audit(unlocked_tree(tmp_path))
    assert code == 1
    details = {k: v["detail"] for k, v in rules.items() if not v["ok"]}
    # ssh-passwords and the others each fail for the reason the tree was built with.
    assert sorted(details) == sorted(RULE_IDS)
    assert details["kiosk-installed"] == "kiosk.service installed but not enabled"
    assert "User= is root" in str(details["kiosk-hardened"])
    assert "Type= is simple" in str(details["kiosk-watchdog"])
    assert details["logind-vts"] == "expected 0, found NAutoVTs=unset (6), ReserveVT=unset (6)"
    assert details["sysrq"] == "sysctl.d sets kernel.sysrq=0x01b6"
    assert details["getty-tty1"] == "getty@tty1.service enabled in getty.target"
    assert details["usb-storage"] == "no 'install <module> /bin/false' for usb_storage, uas"
    assert details["ssh-passwords"] == "PasswordAuthentication yes"
    assert details["no-display-manager"] == "enabled: display-manager.service"
    assert details["hardware-watchdog"] == "RuntimeWatchdogSec=unset (expected 1..15 s)"


Break = Callable[[Path], object]

UNITS = "etc/systemd/system"


def _no_consoleblank(root: Path) -> None:
    write(root, "boot/firmware/cmdline.txt", "console=tty3 quiet\n")
    (root / "etc/default/grub.d/kiosk.cfg").unlink()


BREAKS: dict[str, list[Break]] = {
    "kiosk-installed": [
        lambda r: (r / UNITS / "multi-user.target.wants/kiosk.service").unlink(),
        lambda r: link(
            r,
            f"{UNITS}/graphical.target.wants/kiosk-cage.service",
            "/etc/systemd/system/kiosk-cage.service",
        ),
    ],
    "kiosk-hardened": [
        lambda r: write(
            r, f"{UNITS}/kiosk.service.d/debug.conf", "[Service]\nReadWritePaths=/var/lib/kiosk\n"
        ),
        lambda r: write(
            r, f"{UNITS}/kiosk.service.d/usb.conf", "[Service]\nDeviceAllow=char-usb_device rw\n"
        ),
        lambda r: write(
            r,
            f"{UNITS}/kiosk.service.d/caps.conf",
            "[Service]\nCapabilityBoundingSet=CAP_SYS_ADMIN\n",
        ),
        lambda r: write(r, f"{UNITS}/kiosk.service.d/fs.conf", "[Service]\nProtectSystem=full\n"),
    ],
    "kiosk-watchdog": [
        lambda r: write(r, f"{UNITS}/kiosk.service.d/wd.conf", "[Service]\nWatchdogSec=0\n"),
        lambda r: write(r, f"{UNITS}/kiosk.service.d/rs.conf", "[Service]\nRestart=on-failure\n"),
    ],
    "kiosk-out-of-order": [
        lambda r: (r / UNITS / "kiosk-out-of-order.service").unlink(),
        lambda r: write(r, f"{UNITS}/kiosk.service.d/of.conf", "[Unit]\nOnFailure=\n"),
    ],
    "logind-vts": [
        lambda r: write(r, "etc/systemd/logind.conf.d/zz-local.conf", "[Login]\nNAutoVTs=2\n"),
    ],
    "logind-keys": [
        lambda r: write(
            r, "run/systemd/logind.conf.d/zz.conf", "[Login]\nHandlePowerKey=poweroff\n"
        ),
    ],
    "ctrl-alt-del": [
        lambda r: (r / UNITS / "ctrl-alt-del.target").unlink(),
        lambda r: write(
            r,
            "etc/systemd/system.conf.d/zz.conf",
            "[Manager]\nCtrlAltDelBurstAction=reboot-force\n",
        ),
    ],
    "sysrq": [
        lambda r: write(r, "etc/sysctl.conf", "kernel/sysrq=1\n"),
        lambda r: (r / "etc/sysctl.d/90-kiosk.conf").unlink(),
    ],
    "getty-tty1": [lambda r: (r / UNITS / "getty@tty1.service").unlink()],
    "usb-storage": [lambda r: write(r, "etc/modprobe.d/kiosk-usb-storage.conf", "blacklist uas\n")],
    "ssh-passwords": [
        lambda r: write(r, "etc/ssh/sshd_config.d/00-first.conf", "PasswordAuthentication yes\n"),
        lambda r: write(
            r,
            "etc/ssh/sshd_config",
            "KbdInteractiveAuthentication yes\nInclude sshd_config.d/*.conf\n",
        ),
    ],
    "no-display-manager": [
        lambda r: link(r, f"{UNITS}/graphical.target.wants/gdm3.service", "/lib/gdm3.service"),
        lambda r: link(
            r, f"{UNITS}/graphical.target.wants/cage@tty7.service", "/lib/cage@.service"
        ),
    ],
    "console-blank": [_no_consoleblank],
    "hardware-watchdog": [
        lambda r: write(
            r, "etc/systemd/system.conf.d/zz.conf", "[Manager]\nRuntimeWatchdogSec=1min\n"
        ),
        lambda r: write(
            r, "etc/systemd/system.conf.d/zz.conf", "[Manager]\nRuntimeWatchdogSec=off\n"
        ),
    ],
}


def test_every_rule_has_breaks() -> None:
    assert sorted(BREAKS) == sorted(RULE_IDS)


@pytest.mark.parametrize(
    ("rule", "index"), [(rule, i) for rule, breaks in BREAKS.items() for i in range(len(breaks))]
)
def test_one_break_fails_exactly_its_rule(tmp_path: Path, rule: str, index: int) -> None:
    root = locked_tree(tmp_path)
    BREAKS[rule][index](root)
    code, rules = _audit(root)
    assert [k for k, v in rules.items() if not v["ok"]] == [rule]
    assert code == 1


def test_grub_config_counts_for_console_blank(tmp_path: Path) -> None:
    root = locked_tree(tmp_path)
    (root / "boot/firmware/cmdline.txt").unlink()
    code, rules = _audit(root)
    assert (code, rules["console-blank"]["detail"]) == (
        0,
        "consoleblank=0 in etc/default/grub.d/kiosk.cfg",
    )


def test_text_output_and_cli_exit_codes(tmp_path: Path) -> None:
    root = unlocked_tree(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.system.audit", "--root", str(root)],
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1
    assert [ln.split()[:2] for ln in lines if not ln.startswith(" ")][:-1] == [
        ["FAIL", rid] for rid in RULE_IDS
    ]
    assert sum(ln.startswith("      fix: ") for ln in lines) == len(RULE_IDS)
    assert lines[-1] == f"0 passed, {len(RULE_IDS)} failed"
    assert main(["--root", str(tmp_path / "missing")]) == 2
