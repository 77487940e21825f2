from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.config import KioskConfig
from kiosk.ui.i18n import LOCALES, Catalogues, Translations, read_catalogue
from tests.ui.msgids import all_message_ids, kv_message_ids, python_message_ids

LANGUAGES = KioskConfig().languages
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def test_the_extractor_finds_ids_in_both_kv_and_python() -> None:
    kv, py = kv_message_ids(), python_message_ids()
    assert "Tap to start" in kv and kv["Tap to start"].startswith("idle.kv:")
    assert "We could not find that number." in py
    assert len(all_message_ids()) > 80


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_id_is_translated(language: str) -> None:
    messages = read_catalogue(LOCALES / language / "LC_MESSAGES" / "kiosk.po")
    missing = {mid: where for mid, where in all_message_ids().items() if not messages.get(mid)}
    assert missing == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    messages = read_catalogue(LOCALES / language / "LC_MESSAGES" / "kiosk.po")
    wrong = {
        mid: text
        for mid, text in messages.items()
        if sorted(_PLACEHOLDER.findall(mid)) != sorted(_PLACEHOLDER.findall(text))
    }
    assert wrong == {}


def test_each_language_names_itself_differently() -> None:
    catalogues = Catalogues(LANGUAGES)
    names = [catalogues.gettext(code, "This language's name") for code in LANGUAGES]
    assert names == ["Norsk bokmål", "Norsk nynorsk", "English", "Davvisámegiella"]


def test_bokmal_speaks_with_the_clinics_words() -> None:
    catalogues = Catalogues(["nb"])
    assert catalogues.gettext("nb", "Tap to start") == "Trykk for å starte"
    assert catalogues.gettext("nb", "You are knocking.") == "Du banker på."
    assert catalogues.gettext("nb", "End") == "Avslutt"


def test_a_gap_shows_the_message_id_never_nothing() -> None:
    catalogues = Catalogues(["nb"])
    assert catalogues.gettext("nb", "no such message") == "no such message"
    assert catalogues.gettext("xx", "Tap to start") == "Tap to start"
    assert Translations({"a": "b"})["missing"] == "missing"


def test_a_missing_catalogue_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="expected a catalogue for 'fr'"):
        Catalogues(["fr"], root=tmp_path)


def test_no_compiled_catalogues_are_shipped() -> None:
    assert sorted(LOCALES.rglob("*.mo")) == []
