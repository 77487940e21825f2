"""The README on a machine that has nothing: a bookworm root with only the five packages it
names, the project cloned into it from the committed HEAD, and the README's `make test`."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.rootfs import bookworm_root, chroot_run, mounted

REPO = Path(__file__).resolve().parents[2]
README_PACKAGES = ("make", "git", "python3", "python3-venv", "ca-certificates")


def _readme_test_command() -> str:
    readme = (REPO / "README.md").read_text()
    command = next(line for line in readme.splitlines() if line.startswith("make test"))
    return command.split("#")[0].strip()


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_readme_make_test_passes_in_a_fresh_bookworm_root(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("the fresh-root test needs root (debootstrap, mount, chroot)")
    command = _readme_test_command()
    assert command == "make test"
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    started = time.monotonic()
    root = bookworm_root(tmp_path / "root", README_PACKAGES)
    unpacked = time.monotonic()
    missing = [
        package
        for package in ("xvfb", "chromium", "libatomic1", "prometheus", "iproute2")
        if (root / f"var/lib/dpkg/info/{package}.list").exists()
        or (root / f"var/lib/dpkg/info/{package}:amd64.list").exists()
    ]
    assert missing == [], f"the root already has {missing}: it would not prove the Makefile"
    checkout = root / "srv/kiosk"
    subprocess.run(["git", "clone", "-q", str(REPO), str(checkout)], check=True, timeout=300)
    subprocess.run(["git", "-C", str(checkout), "checkout", "-q", head], check=True)
    log = tmp_path / "make-test.log"
    with mounted(root):
        # About 20 minutes here (installing, then the suite); twice that means something is
        # stuck, and the timeout's message carries the end of the log to say what.
        result = chroot_run(root, f"cd /srv/kiosk && {command}", timeout=2400, log=log)
    finished = time.monotonic()
    print(
        f"fresh root: root ready in {unpacked - started:.0f} s, "
        f"`{command}` took {finished - unpacked:.0f} s, exit {result.returncode}"
    )
    assert result.returncode == 0, result.stdout[-8000:]
    assert "Installing Debian packages:" in result.stdout
    assert " passed" in result.stdout
