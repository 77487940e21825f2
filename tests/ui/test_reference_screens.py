"""Every screen, in every language, as it was reviewed: compared with the committed reference
pictures in tests/ui/reference/<language>/ (a 1024x600 7" panel, kept at half that size so the
repository stays light), with a small tolerance for the odd pixel of anti-aliasing. A layout
change shows up here as a failed comparison, with the
new picture and a picture of the differences saved under artifacts/screenshots/reference/.

After a reviewed change, write new references with `make update-reference-screens` and
commit them (docs/translations.md says how to look at them first).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from kiosk.base.clock import ManualClock
from tests.ui.scripted_engine import ScriptedEngine
from tests.ui.walk import STAFF_PIN, check_variants, walk

SIZE = (1024, 600)
# Half size: a broken word, a clipped or moved text is still plain at 512x300.
KEPT = (512, 300)
REFERENCES = Path(__file__).resolve().parent / "reference"
UPDATE = os.environ.get("KIOSK_UPDATE_REFERENCES") == "1"
LANGUAGES = ("nb", "nn", "en", "se")
# The screens a patient or a nurse meets, one of each (the walk's other variants are checked
# for layout in test_layout.py).
SCREENS = (
    "idle", "number", "number_qr_host_not_allowed", "idle_warning", "checks", "checks_2",
    "joining", "waiting", "in_call_good", "in_call_recording_muted", "in_call_card_glare",
    "reconnecting", "waiting_again", "ended", "staff_pin", "staff_pin_wrong", "nurse",
    "in_call_nurse_hint", "maintenance", "error_lobby_timeout",
)  # fmt: skip
# Anti-aliasing may move a pixel's colour a little on another machine's renderer; a moved,
# missing or re-worded text changes hundreds of pixels by far more.
PIXEL_TOLERANCE = 48
MAX_CHANGED_SHARE = 0.002


def differences(
    image: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8]
) -> tuple[float, npt.NDArray[np.uint8]]:
    """Share of pixels that differ by more than the tolerance, and a picture of them."""
    if image.shape != reference.shape:
        return 1.0, np.full_like(image, 255)
    delta = np.abs(image.astype(np.int16) - reference.astype(np.int16)).max(axis=2)
    changed = delta > PIXEL_TOLERANCE
    picture = (reference // 3).astype(np.uint8)
    picture[changed] = (255, 0, 255)
    return float(changed.mean()), picture


def reduced(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    return np.asarray(cv2.resize(image, KEPT, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _read(path: Path) -> npt.NDArray[np.uint8]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(
            f"expected a reference picture at {path}; write them with "
            "`make update-reference-screens`"
        )
    return np.asarray(image[:, :, ::-1], dtype=np.uint8)


def _write(path: Path, image: npt.NDArray[np.uint8]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    bgr = np.ascontiguousarray(image[:, :, ::-1])
    if not cv2.imwrite(str(path), bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"expected to write a PNG at {path}")


def test_a_moved_label_is_caught_and_antialiasing_is_not() -> None:
    base = np.zeros((60, 100, 3), np.uint8)
    base[20:30, 10:60] = 255  # a line of "text"
    softer = base.copy()
    softer[20:30, 10] = 230  # an edge pixel rendered a shade lighter
    moved = np.zeros_like(base)
    moved[24:34, 10:60] = 255
    assert differences(softer, base)[0] == 0.0
    assert differences(moved, base)[0] > MAX_CHANGED_SHARE
    assert differences(base[:50], base)[0] == 1.0


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_screen_looks_as_reviewed(
    language: str, kivy_display: str, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    clock = ManualClock()
    engine = ScriptedEngine(
        answer_knocks=False, clock=clock, checks=check_variants()[0], pin=STAFF_PIN, still=True
    )
    failed: dict[str, float] = {}
    taken: list[str] = []
    out = screenshots_dir / "reference" / language
    async with run_app(engine, size=SIZE) as pilot:
        with pilot.undrawn():
            async for screen in walk(
                pilot, engine, clock, language, large_text=False, pictures=True
            ):
                if screen not in SCREENS:
                    continue
                image = reduced(await pilot.screenshot())
                taken.append(screen)
                reference = REFERENCES / language / f"{screen}.png"
                if UPDATE:
                    _write(reference, image)
                    continue
                share, picture = differences(image, _read(reference))
                if share > MAX_CHANGED_SHARE:
                    failed[screen] = round(share, 4)
                    _write(out / f"{screen}.png", image)
                    _write(out / f"{screen}.diff.png", picture)
    assert taken == list(SCREENS)
    assert failed == {}, (
        f"screens differ from the reviewed pictures (share of pixels changed); the new ones "
        f"and their differences are in {out}"
    )
