"""Tests that measure real-time media (calls, audio levels, frame rates, reconnect times) are
marked `realtime`. `make test` runs everything else on both cores first, then these one at a
time with the machine to themselves, so each measures the kiosk and not another test."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

# Hypothesis' per-example deadline measures the wall clock, which a busy machine stretches;
# the tests that bound a parser's cost measure its CPU time themselves (tests/fuzz).
settings.register_profile("kiosk", deadline=None)
settings.load_profile("kiosk")

REALTIME = (
    "checks/test_audio.py",
    "checks/test_summary.py",
    "devices/test_audio.py",
    "devices/test_echo.py",
    "devices/test_speech_playback.py",
    "e2e/",
    "engine/test_engine.py",
    "engine/test_faults.py",
    "engine/test_management.py",
    "engine/test_privacy.py",
    "media/test_call.py",
    "media/test_call_audio_controls.py",
    "media/test_quality_netlab.py",
    "refnode/",
    "support/test_netns.py",
    "ui/test_journey.py",
    "ui/test_read_aloud.py",
    "ui/test_scene_screens.py",
    "ui/test_staff.py",
)
_TESTS = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        relative = Path(str(item.fspath)).resolve().relative_to(_TESTS).as_posix()
        if relative.startswith(REALTIME):
            item.add_marker(pytest.mark.realtime)
