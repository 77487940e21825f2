from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.pulse import pulse_server
from tests.support.xvfb import xvfb_display

__all__ = ["pulse_server", "xvfb_display"]

SCREENSHOTS = Path(__file__).resolve().parent.parent.parent / "artifacts" / "screenshots"


@pytest.fixture(scope="session")
def kivy_display(xvfb_display: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A display for Kivy, with Kivy's own files kept out of the home directory."""
    os.environ.setdefault("KIVY_HOME", str(tmp_path_factory.mktemp("kivy-home")))
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    yield xvfb_display


@pytest.fixture(scope="session")
def screenshots_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
