from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.xvfb import xvfb_screen

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "artifacts" / "screenshots"
# Tall enough for the portrait panel (720x1280) as well as the widest landscape one.
SCREEN = "1920x1280x24"


@pytest.fixture(scope="session")
def ui_xvfb() -> Iterator[str]:
    with xvfb_screen(SCREEN) as display:
        yield display


@pytest.fixture(scope="session")
def kivy_display(ui_xvfb: str) -> Iterator[str]:
    """A display for Kivy (its own files are kept out of the home directory: tests/conftest.py)."""
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    yield ui_xvfb


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
