"""The kiosk on arm64 (Raspberry Pi 4/5): every dependency has an aarch64 wheel, and an
arm64 bookworm root provisioned by the Ansible role runs the headless demo under qemu.

Everything in the root runs emulated (qemu-user as a Pi 4's Cortex-A72), many times slower
than a Pi: the scripted patient waits six times as long at each step, and media that cannot
keep up in real time may make the kiosk declare outages and rebuild the call (the patient
may even hang up during one); the journey must still end clean, with media both ways. The
root comes with the role's Debian packages already in it (the root is cached for the day):
what the role then does to it, on arm64, is what is tested.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kiosk.fleet.keys import fingerprint, public_key_text
from tests.support.rootfs import (
    EMULATED_CPU,
    binfmt_ready,
    bookworm_root,
    chroot_run,
    kiosk_wheel,
    mounted,
)

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "provisioning" / "ansible"
ROLE_DEFAULTS = ANSIBLE_DIR / "roles" / "kiosk" / "defaults" / "main.yml"
FULL_JOURNEY = [
    "idle", "number", "checks", "joining", "waiting", "in_call", "ended", "wiping", "idle"
]  # fmt: skip
BIN = Path(sys.executable).parent
# Bookworm has glibc 2.36 and Python 3.11: every manylinux tag up to that runs there.
AARCH64_PLATFORMS = ["manylinux2014_aarch64"] + [
    f"manylinux_2_{minor}_aarch64" for minor in range(17, 37)
]


def _runtime_closure() -> dict[str, str]:
    """The kiosk's runtime dependencies on an aarch64 terminal, transitively and with the
    extras asked for (kivy[base] brings Pillow), at the versions the suite runs with."""
    pinned: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    own = [Requirement(r) for r in metadata.requires("clinic-kiosk") or []]
    todo = [r for r in own if _needed(r, {""})]
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if (name, frozenset(requirement.extras)) in seen:
            continue
        seen.add((name, frozenset(requirement.extras)))
        dist = metadata.distribution(requirement.name)
        pinned[name] = dist.version
        extras = {"", *requirement.extras}
        todo.extend(sub for sub in map(Requirement, dist.requires or []) if _needed(sub, extras))
    return pinned


def _needed(requirement: Requirement, extras: set[str]) -> bool:
    """Whether an aarch64 terminal installs `requirement` for a package asked for with
    `extras` ("" stands for none)."""
    marker = requirement.marker
    return marker is None or any(
        marker.evaluate({"extra": extra, "platform_machine": "aarch64"}) for extra in extras
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_every_runtime_dependency_has_an_aarch64_wheel(tmp_path: Path) -> None:
    pinned = _runtime_closure()
    assert {"kivy", "pillow", "aiortc", "av", "opencv-python", "numpy", "cryptography"} <= set(
        pinned
    )
    platforms = [arg for p in AARCH64_PLATFORMS for arg in ("--platform", p)]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
         *platforms, "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
         "--abi", "abi3", "--abi", "none", "-d", str(tmp_path),
         *(f"{name}=={version}" for name, version in sorted(pinned.items()))],
        capture_output=True, text=True, timeout=840,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    wheels = {canonicalize_name(p.name.split("-")[0]): p.name for p in tmp_path.glob("*.whl")}
    assert set(wheels) == set(pinned), set(pinned) ^ set(wheels)
    for wheel in sorted(wheels.values()):
        assert wheel.endswith(("-any.whl", "aarch64.whl")), wheel
    print(f"aarch64 wheels for {len(wheels)} packages: " + ", ".join(sorted(wheels.values())))


def _recap(output: str) -> dict[str, int]:
    match = re.search(r"^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)",
                      output, re.M)  # fmt: skip
    assert match, output[-3000:]
    return dict(
        zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups()), strict=True)
    )


@pytest.mark.slow
@pytest.mark.timeout(5400)
def test_arm64_root_provisioned_by_the_role_runs_the_headless_demo(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("the arm64 test needs root (debootstrap, binfmt_misc, chroot)")
    assert binfmt_ready("aarch64"), (
        "no qemu-aarch64 in binfmt_misc: qemu-user-static and binfmt-support (Makefile) register it"
    )
    started = time.monotonic()
    packages = yaml.safe_load(ROLE_DEFAULTS.read_text())["kiosk_packages"]
    root = bookworm_root(tmp_path / "root", tuple(sorted(packages)), "arm64")
    machine = chroot_run(root, "uname -m", timeout=120)
    print(f"arm64 root: uname -m inside says {machine.stdout.strip()}")
    assert machine.stdout.strip() == "aarch64", machine.stdout + machine.stderr
    wheel = kiosk_wheel(REPO, tmp_path, sys.executable)
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
        "kiosk_install_dependencies": True,
        "kiosk_site": "bodo-legekontor",
        "kiosk_terminal": "kiosk-pi-01",
        "kiosk_config_url": "https://fleet.clinic.example/sites/bodo-legekontor/bundle.json",
        "kiosk_signer_public_key": public_key_text(key.public_key()),
        "kiosk_signer_fingerprint": fingerprint(key.public_key()),
    }
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_TIMEOUT": "600",
        **EMULATED_CPU,
    }
    with mounted(root):
        provisioned_at = time.monotonic()
        play = subprocess.run(
            [BIN / "ansible-playbook", "-i", str(inventory), "-e", json.dumps(extra), "site.yml"],
            cwd=ANSIBLE_DIR, env=env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        assert play.returncode == 0, play.stdout[-6000:] + play.stderr[-3000:]
        recap = _recap(play.stdout)
        assert recap["failed"] == 0 and recap["changed"] > 5, recap
        demo_at = time.monotonic()
        demo = chroot_run(
            root,
            "uname -m; cd /tmp && HOME=/tmp KIVY_NO_FILELOG=1 /opt/kiosk/current/bin/kiosk demo "
            "--headless --json --patience 6",
            timeout=1500,
        )
        finished = time.monotonic()
    print(
        f"arm64: root {provisioned_at - started:.0f} s, role {demo_at - provisioned_at:.0f} s, "
        f"demo {finished - demo_at:.0f} s under emulation, {finished - started:.0f} s in all"
    )
    lines = demo.stdout.strip().splitlines()
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-4000:]
    assert lines[0] == "aarch64"
    result = json.loads(lines[-1])
    print("arm64 demo:", json.dumps(result))
    assert result["ok"] is True and result["ended_clean"] is True
    assert _without_recoveries(result["states"]) == FULL_JOURNEY, result["states"]
    assert result["remote_video_frames"] > 0 and result["practitioner_video_frames"] > 0
    assert result["remote_audio_frames"] > 0 and result["practitioner_audio_frames"] > 0


def _without_recoveries(states: list[str]) -> list[str]:
    """The journey with each outage the kiosk declared taken out: those it got through
    (in_call -> reconnecting -> in_call) and one the patient's hang-up cut short (in_call ->
    reconnecting -> ended). Any other path stays as it was."""
    path = "/".join(states)
    while "in_call/reconnecting/in_call" in path:
        path = path.replace("in_call/reconnecting/in_call", "in_call")
    return path.replace("in_call/reconnecting/ended", "in_call/ended").split("/")
