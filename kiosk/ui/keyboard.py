"""The nurse's letter keyboard: the letters of the session's language.

Norwegian (bokmål and nynorsk) adds Æ Ø Å to the Latin rows; Northern Sami adds a row with
Á Č Đ Ŋ Š Ŧ Ž, since a Sami patient's name may have any of them (and the Norwegian letters,
which Sami names in Norway use too); English has the Latin letters only.
"""

from __future__ import annotations

_LATIN = ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM-")
_NORWEGIAN = ("QWERTYUIOPÅ", "ASDFGHJKLØÆ", "ZXCVBNM-")

LETTER_ROWS: dict[str, tuple[str, ...]] = {
    "nb": _NORWEGIAN,
    "nn": _NORWEGIAN,
    "en": _LATIN,
    "se": (*_NORWEGIAN, "ÁČĐŊŠŦŽ"),
}

# Widget ids for the keys that are not plain A-Z (tests and the log name keys by these).
KEY_NAMES: dict[str, str] = {
    "Å": "aa",
    "Ø": "oe",
    "Æ": "ae",
    "-": "dash",
    "Á": "a_acute",
    "Č": "c_caron",
    "Đ": "d_stroke",
    "Ŋ": "eng",
    "Š": "s_caron",
    "Ŧ": "t_stroke",
    "Ž": "z_caron",
}


def letter_rows(language: str) -> tuple[str, ...]:
    return LETTER_ROWS.get(language, _NORWEGIAN)


def key_id(letter: str) -> str:
    return f"letter_{KEY_NAMES.get(letter, letter.lower())}"
