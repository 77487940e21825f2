"""A virtual screen for tests that open a real window.

`xvfb_display` (session scope) starts `Xvfb -screen 0 1920x1080x24` on a display number Xvfb
picks itself (-displayfd, so parallel workers never collide), sets DISPLAY and stops it at
the end. Use it from a conftest: `from tests.support.xvfb import xvfb_display  # noqa: F401`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

SCREEN = "1920x1080x24"


def start_xvfb(screen: str = SCREEN, timeout: float = 10.0) -> tuple[subprocess.Popen[bytes], str]:
    if shutil.which("Xvfb") is None:
        raise RuntimeError("expected Xvfb on PATH (Debian package xvfb)")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            import select

            ready, _, _ = select.select([pipe], [], [], timeout)
            number = pipe.readline().decode().strip() if ready else ""
    except BaseException:
        process.kill()
        raise
    if not number.isdigit():
        process.kill()
        process.wait()
        raise RuntimeError(f"expected Xvfb to report its display number (got {number!r})")
    return process, f":{number}"


@contextlib.contextmanager
def xvfb_screen(screen: str = SCREEN) -> Iterator[str]:
    """Xvfb running with DISPLAY pointing at it, both undone on the way out."""
    process, display = start_xvfb(screen)
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        yield display
    finally:
        if previous is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = previous
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    with xvfb_screen() as display:
        yield display
