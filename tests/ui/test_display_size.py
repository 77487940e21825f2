"""The kiosk takes the display's own size when it starts full screen, whatever the panel: a
process of its own on a virtual display the size of each panel, as on a terminal (X11; on
KMS/DRM SDL's window is the display's mode in the same way)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.xvfb import start_xvfb

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize(
    ("panel", "portrait", "compact"),
    [((800, 480), False, True), ((1024, 600), False, True), ((720, 1280), True, False)],
    ids=lambda v: "x".join(map(str, v)) if isinstance(v, tuple) else None,
)
def test_full_screen_takes_the_size_of_the_display(
    panel: tuple[int, int], portrait: bool, compact: bool, tmp_path: Path
) -> None:
    process, display = start_xvfb(f"{panel[0]}x{panel[1]}x24")
    try:
        env = {
            **os.environ,
            "DISPLAY": display,
            "KIVY_HOME": str(tmp_path),
            "KIVY_NO_CONSOLELOG": "1",
            "PYTHONPATH": str(ROOT),
        }
        done = subprocess.run(
            [sys.executable, "-m", "tests.ui.fullscreen_probe", f"{panel[0]}x{panel[1]}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["window"] == list(panel)
    assert (found["portrait"], found["compact"]) == (portrait, compact)
    assert found["defects"] == []
    # The start screen's one big target spans the width, less the margins.
    assert found["start_button"][0] > 0.9 * panel[0]
