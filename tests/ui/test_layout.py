"""No label breaks inside a word and nothing overflows, on every screen and overlay, in every
language, with large text on and off, on every panel a terminal may have.

Screenshots of the checks and call screens at each size go to
artifacts/screenshots/<width>x<height>/<language>/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kiosk.base.clock import ManualClock
from tests.ui.layout_check import Defect, layout_defects
from tests.ui.shots import Shots
from tests.ui.walk import combinations, scripted_engine, walk

# Raspberry Pi Touch Display, 7" panels, 720p and 1280x800 panels, 1080p, Touch Display 2.
RESOLUTIONS = [(800, 480), (1024, 600), (1280, 720), (1280, 800), (1920, 1080), (720, 1280)]
LANGUAGES = ("nb", "nn", "en", "se")
SAVED = ("checks", "in_call_good")
# KIOSK_UI_SHOTS=all saves every screen of the walk too (for a review; a few hundred files).
EVERY_SCREEN = os.environ.get("KIOSK_UI_SHOTS") == "all"


def _report(defects: list[Defect], limit: int = 60) -> str:
    lines = [str(d) for d in defects[:limit]]
    if len(defects) > limit:
        lines.append(f"... and {len(defects) - limit} more")
    return "\n".join(lines)


@pytest.mark.parametrize("size", RESOLUTIONS, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_words_stay_whole_and_text_fits(
    size: tuple[int, int],
    kivy_display: str,
    screenshots_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from kiosk.ui.testing import run_app

    clock = ManualClock()
    engine = scripted_engine(clock)
    defects: list[Defect] = []
    visited = 0
    folder = screenshots_dir / f"{size[0]}x{size[1]}"
    async with run_app(engine, size=size) as pilot:
        with pilot.undrawn():
            for language, large_text in combinations(LANGUAGES):
                shots = Shots(pilot, folder / language)
                mode = "large" if large_text else "normal"
                async for screen in walk(pilot, engine, clock, language, large_text):
                    visited += 1
                    roots = [pilot.app.root]
                    where = f"{size[0]}x{size[1]} {language} {mode} {screen}"
                    defects += layout_defects(roots, size, where)
                    if screen in SAVED or EVERY_SCREEN:
                        await shots.take(f"{screen}_{mode}")
    report = screenshots_dir.parent / f"layout-{size[0]}x{size[1]}.txt"
    report.write_text("\n".join(str(d) for d in defects) + "\n")
    assert visited == 8 * 53, visited
    # A layout that never settles (one change feeding the next each frame) shows as Kivy's
    # warning that its clock ran out of iterations.
    unsettled = [r.getMessage() for r in caplog.records if "too much iteration" in r.getMessage()]
    assert unsettled == []
    assert defects == [], f"{len(defects)} defects (all in {report}):\n{_report(defects)}"
