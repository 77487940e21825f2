"""Debian roots for the slow tests: debootstrapped once a day, unpacked fresh for each test.

`bookworm_root(dest, packages, arch)` fills `dest` with a bookworm minbase root holding the
given extra packages. The first call of the day debootstraps it (from the mirror this
machine's apt uses, read from /etc/apt/sources.list*) and keeps a tarball under
/var/cache/clinic-kiosk (or $KIOSK_ROOT_CACHE); later calls only unpack that. A foreign
architecture is debootstrapped with `--foreign` and finished under qemu-user-static through
binfmt_misc, which emulates a Raspberry Pi 4's CPU for every command run in such a root.

`mounted(root)` bind-mounts the root onto itself (`ip netns` needs `/` to be a mount point)
and mounts /proc, /sys, /dev, /dev/pts and a fresh /run inside; everything is unmounted on
the way out, innermost first. `chroot_run(root, command)` runs a shell command inside with a
clean environment.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

CACHE = Path(os.environ.get("KIOSK_ROOT_CACHE", "/var/cache/clinic-kiosk"))
_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# The CPU qemu-user emulates for a foreign root: a Raspberry Pi 4's. Its default, "max",
# offers SVE, which NumPy, OpenCV and libvpx then use and qemu emulates slowly: a VP8 frame
# took 150 ms instead of 58, a Python loop 1.7 times as long.
EMULATED_CPU = {"QEMU_CPU": "cortex-a72"}
# Keeps daemons that packages install (PulseAudio, Prometheus) from starting in the chroot,
# where nothing would stop them and their open files would pin the mounts.
_POLICY_RC = "#!/bin/sh\n# No service starts inside a test root.\nexit 101\n"


def host_mirror() -> str:
    """The Debian archive this machine's apt uses (deb822 or one-line sources)."""
    sources = Path("/etc/apt")
    texts = [p.read_text() for p in sorted(sources.glob("sources.list.d/*.sources"))]
    for path in [sources / "sources.list", *sorted(sources.glob("sources.list.d/*.list"))]:
        if path.exists():
            texts.append(path.read_text())
    for text in texts:
        for match in re.finditer(r"^(?:URIs:\s*|deb\s+(?:\[[^]]*\]\s+)?)(\S+)", text, re.M):
            uri = match.group(1)
            if "security" not in uri and uri.startswith(("http://", "https://")):
                return uri
    raise AssertionError("no Debian archive in /etc/apt/sources.list*")


def binfmt_ready(arch: str = "aarch64") -> bool:
    """Whether the kernel runs `arch` binaries through qemu-user-static (mounting binfmt_misc
    and enabling the interpreter when the packages are there)."""
    misc = Path("/proc/sys/fs/binfmt_misc")
    if not (misc / "register").exists():
        subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(misc)], check=False)
    entry = misc / f"qemu-{arch}"
    if not entry.exists() and shutil.which("update-binfmts"):
        subprocess.run(["update-binfmts", "--enable", f"qemu-{arch}"], check=False)
    return entry.exists() and "enabled" in entry.read_text()


def bookworm_root(dest: Path, packages: tuple[str, ...], arch: str = "amd64") -> Path:
    """A fresh bookworm minbase root with `packages` in `dest` (which must not exist)."""
    tag = "-".join([arch, *sorted(packages)]) if packages else arch
    tarball = CACHE / f"bookworm-minbase-{tag}-{dt.date.today():%Y%m%d}.tar"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        build = dest.with_name(dest.name + ".build")
        shutil.rmtree(build, ignore_errors=True)
        command = ["debootstrap", "--variant=minbase", f"--arch={arch}"]
        if packages:
            command.append("--include=" + ",".join(packages))
        foreign = arch not in ("amd64", "i386")
        if foreign:
            command.append("--foreign")
        subprocess.run(
            [*command, "bookworm", str(build), host_mirror()],
            check=True,
            capture_output=True,
            timeout=1800,
        )
        # A test root is thrown away: dpkg need not wait for every file it writes to reach
        # the disk.
        dpkg_config = build / "etc/dpkg/dpkg.cfg.d"
        dpkg_config.mkdir(parents=True, exist_ok=True)
        (dpkg_config / "unsafe-io").write_text("force-unsafe-io\n")
        if foreign:
            try:
                subprocess.run(
                    ["chroot", str(build), "/debootstrap/debootstrap", "--second-stage"],
                    check=True,
                    capture_output=True,
                    env={**os.environ, **EMULATED_CPU},
                    timeout=3600,
                )
            finally:
                # The second stage mounts /proc and /sys inside and leaves them on failure.
                for inner in ("proc", "sys"):
                    subprocess.run(
                        ["umount", "-R", "-l", str(build / inner)], check=False, capture_output=True
                    )
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(build), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
        shutil.rmtree(build)
    dest.mkdir(parents=True)
    subprocess.run(["tar", "-C", str(dest), "-xf", str(tarball)], check=True)
    policy = dest / "usr/sbin/policy-rc.d"
    policy.write_text(_POLICY_RC)
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", dest / "etc/resolv.conf")
    # The installer writes /etc/hosts on every real machine; debootstrap leaves none, and
    # without it "localhost" does not resolve.
    hosts = dest / "etc/hosts"
    if not hosts.exists():
        hosts.write_text("127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n")
    _trust_like_the_host(dest)
    return dest


def _trust_like_the_host(root: Path) -> None:
    """The certificate authorities this machine adds to Debian's (a TLS-inspecting egress
    proxy, a company CA) and the pip setting that makes pip use that store, so the root
    reaches the package index the way the machine does."""
    local = Path("/usr/local/share/ca-certificates")
    added = sorted(local.glob("*.crt")) if local.is_dir() else []
    if added:
        for cert in added:
            shutil.copy(cert, root / "usr/local/share/ca-certificates" / cert.name)
        subprocess.run(
            ["chroot", str(root), "update-ca-certificates"],
            check=True, capture_output=True, env={"PATH": _PATH, **EMULATED_CPU}, timeout=600,
        )  # fmt: skip
    if Path("/etc/pip.conf").exists():
        shutil.copy("/etc/pip.conf", root / "etc/pip.conf")


@contextlib.contextmanager
def mounted(root: Path) -> Iterator[Path]:
    """The root bind-mounted onto itself with /proc, /sys, /dev, /dev/pts and /run inside."""
    done: list[Path] = []

    def mount(target: Path, *args: str) -> None:
        subprocess.run(["mount", *args, str(target)], check=True)
        done.append(target)
        # Private, so nothing mounted or unmounted under the root reaches the host's mounts.
        subprocess.run(["mount", "--make-private", str(target)], check=True)

    try:
        mount(root, "--bind", str(root))
        mount(root / "proc", "-t", "proc", "proc")
        mount(root / "sys", "-t", "sysfs", "sysfs")
        mount(root / "dev", "--bind", "/dev")
        mount(root / "dev/pts", "--bind", "/dev/pts")
        (root / "dev/shm").mkdir(exist_ok=True)
        mount(root / "dev/shm", "-t", "tmpfs", "tmpfs")
        mount(root / "run", "-t", "tmpfs", "tmpfs")
        yield root
    finally:
        for target in reversed(done):
            # Namespaces `ip netns` left mounted under /run/netns go with it.
            subprocess.run(["umount", "-R", "-l", str(target)], check=False)


def chroot_run(
    root: Path, script: str, *, timeout: float, log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`bash -c script` as root inside `root`, with a clean environment (output to `log`)."""
    env = {"PATH": _PATH, "HOME": "/root", "LANG": "C.UTF-8", "TERM": "dumb", **EMULATED_CPU}
    command = ["chroot", str(root), "/bin/bash", "-c", script]
    if log is None:
        return subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    with log.open("w") as out:
        # A session of its own, so that on a timeout the whole tree inside goes (pytest, its
        # workers, Xvfb, the sound server), not only the shell, and the log says how far it got.
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise ChrootTimeout(script, timeout, log.read_text()) from None
    return subprocess.CompletedProcess(command, returncode, log.read_text(), "")


class ChrootTimeout(Exception):
    """A command in a root ran past its time; carries the end of what it printed."""

    def __init__(self, script: str, timeout: float, output: str) -> None:
        super().__init__(
            f"`{script}` ran past {timeout:.0f} s inside the root; the end of its output:\n"
            + output[-12000:]
        )
        self.output = output


def kiosk_wheel(repo: Path, tmp: Path, python: str) -> Path:
    """The kiosk's wheel, built from a copy of the sources so the tree stays clean."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo / name, source)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(repo / "kiosk", source / "kiosk", ignore=ignore)
    wheels = tmp / "wheels"
    subprocess.run(
        [python, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        timeout=300,
    )
    return next(wheels.glob("clinic_kiosk-*.whl"))
