"""Gettext catalogues read with Babel straight into memory (no .mo files on the terminal).

Message ids are English; `assets/locales/<lang>/LC_MESSAGES/kiosk.po` holds each language.
A missing or empty translation falls back to the id, so a gap shows English, never nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.pofile import read_po

DOMAIN = "kiosk"
ASSETS = Path(__file__).resolve().parent.parent.parent / "assets"
LOCALES = ASSETS / "locales"


def N_(message: str) -> str:
    """Mark a message id for the catalogues; translated later, where it is shown."""
    return message


def read_catalogue(path: Path) -> dict[str, str]:
    with path.open("rb") as fh:
        catalogue = read_po(fh)
    return {
        str(message.id): str(message.string)
        for message in catalogue
        if message.id and isinstance(message.id, str) and message.string
    }


class Catalogues:
    """Every language's messages, loaded once."""

    def __init__(self, languages: Iterable[str], root: Path = LOCALES) -> None:
        self._messages: dict[str, dict[str, str]] = {}
        for language in languages:
            path = root / language / "LC_MESSAGES" / f"{DOMAIN}.po"
            if not path.exists():
                raise FileNotFoundError(f"expected a catalogue for {language!r} at {path}")
            self._messages[language] = read_catalogue(path)

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self._messages)

    def gettext(self, language: str, message: str) -> str:
        return self._messages.get(language, {}).get(message, message)

    def messages(self, language: str) -> dict[str, str]:
        return dict(self._messages[language])


class Translations(dict[str, str]):
    """One language's messages as the KV files read them: `app.t["Tap to start"]`.

    A new instance is set on the app when the language changes, which re-evaluates every KV
    rule that reads `app.t`: that is how the screen switches language live.
    """

    def __missing__(self, key: str) -> str:
        return key
