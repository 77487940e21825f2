"""The nurse's letter keyboard has the letters of the patient's language: a Sami name can be
typed by touch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.session import events as ev
from kiosk.session.state import StaffRole
from kiosk.ui.keyboard import LETTER_ROWS, key_id, letter_rows
from tests.ui.scripted_engine import ScriptedEngine
from tests.ui.shots import Shots, text_of

SAMI = "ÁČĐŊŠŦŽ"
NORWEGIAN = "ÆØÅ"


def test_each_language_has_its_letters_and_every_key_its_own_id() -> None:
    assert set(SAMI) <= set("".join(letter_rows("se")))
    assert set(NORWEGIAN) <= set("".join(letter_rows("nb"))) == set("".join(letter_rows("nn")))
    assert not (set(NORWEGIAN) | set(SAMI)) & set("".join(letter_rows("en")))
    assert letter_rows("xx") == letter_rows("nb")
    for rows in LETTER_ROWS.values():
        letters = "".join(rows)
        ids = [key_id(letter) for letter in letters]
        assert len(set(ids)) == len(letters) and all(i.isascii() for i in ids)


def shown_letters(pilot: Any) -> str:
    rows = pilot.widget("letters").children[::-1]
    keys = [key.text for row in rows for key in row.children[::-1]]
    return "".join(key for key in keys if len(key) == 1)


async def test_the_nurse_types_a_sami_name(kivy_display: str, screenshots_dir: Path) -> None:
    from kiosk.ui.testing import run_app

    engine = ScriptedEngine(pin="2468")
    async with run_app(engine, size=(1280, 800)) as pilot:
        for event in (ev.StaffGesture(StaffRole.NURSE), *(ev.Digit(d) for d in "2468")):
            engine.inject(event)
        engine.inject(ev.SubmitPin())
        await pilot.wait_for_screen("nurse")
        seen = {"nb": shown_letters(pilot)}
        for language in ("en", "se"):
            await pilot.tap(f"lang_{language}")
            await pilot.wait_for(lambda lang=language: pilot.app.language == lang, what=language)
            await pilot.frames(2)
            seen[language] = shown_letters(pilot)
        assert seen == {language: "".join(letter_rows(language)) for language in seen}
        assert (text_of(pilot, "letter_space"), text_of(pilot, "letter_delete")) == (
            "Gaska",
            "Sihko",
        )
        for letter in ("Á", "Ŋ", "Ŋ", "Á", " ", "Ž", "Ŧ", "Đ", "Č", "Š"):
            await pilot.tap("letter_space" if letter == " " else key_id(letter))
        await pilot.wait_for(lambda: engine.state.display_name == "Áŋŋá Žŧđčš", what="name")
        assert text_of(pilot, "name") == "Áŋŋá Žŧđčš"
        await pilot.tap("letter_delete")
        await pilot.wait_for(lambda: engine.state.display_name == "Áŋŋá Žŧđč", what="deleted")
        await Shots(pilot, screenshots_dir / "se").take("nurse_sami_keyboard")
    names = [i for i in engine.intents if isinstance(i, ev.SetDisplayName)]
    assert [i.name for i in names][-2:] == ["Áŋŋá Žŧđčš", "Áŋŋá Žŧđč"]
