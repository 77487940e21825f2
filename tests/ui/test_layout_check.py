"""The layout check itself: it finds a word broken across lines (the labels the kiosk had,
"Vis legitimasjo/n" on a narrow call button) and text running out of its widget, and the
kiosk's fitted text does not break there."""

from __future__ import annotations

from typing import Any

from kiosk.ui.fit import fitted_font_size
from tests.ui.layout_check import broken_words, laid_out_lines, layout_defects
from tests.ui.scripted_engine import ScriptedEngine


def test_a_break_is_allowed_at_a_space_or_after_a_hyphen_only() -> None:
    assert broken_words("Vis legitimasjon", ["Vis", "legitimasjon"]) == []
    assert broken_words("Vis legitimasjon", ["Vis", "legitimasjo", "n"]) == ["legitimasjo|n"]
    assert broken_words("Mellomrom", ["Mellom", "rom"]) == ["Mellom|rom"]
    assert broken_words("Časkat mikrofovnna", ["Časkat", "mikrofovnn", "a"]) == ["mikrofovnn|a"]
    assert broken_words("PIN-koden er feil", ["PIN-", "koden er feil"]) == []
    assert broken_words("Kobler til\u00a0…", ["Kobler til\u00a0…"]) == []
    assert broken_words("Kobler til\u00a0…", ["Kobler til", "…"]) == ["til|\u00a0…"]
    assert broken_words("a\n\nb", ["a", "", "b"]) == []
    assert broken_words("abc", ["xyz"]) == ["line 'xyz' does not follow ''"]


def test_the_fitted_size_keeps_every_word_on_one_line_down_to_the_floor() -> None:
    def word_width(word: str, size: float) -> tuple[float, float]:
        return (len(word) * size * 0.5, size)

    def block(text: str, size: float, width: float) -> tuple[float, float]:
        chars_per_line = max(1, int(width // (size * 0.5)))
        lines = -(-len(text) // chars_per_line)
        return (width, lines * size * 1.2)

    # "legitimasjon": 12 characters of half the size each; 120 px holds it at 20 px.
    assert fitted_font_size("Vis legitimasjon", 32, 16, 120, None, word_width, block) == 20
    assert fitted_font_size("Vis", 32, 16, 120, None, word_width, block) == 32
    assert fitted_font_size("Geahččalanságastallan", 32, 16, 120, None, word_width, block) == 16
    # With a height to keep to, the size comes down until the lines fit too.
    fitted = fitted_font_size("a b c d e f g h i j", 40, 10, 100, 60, word_width, block)
    assert block("a b c d e f g h i j", fitted, 100)[1] <= 60 and fitted < 40


async def test_a_plain_label_breaks_the_word_and_a_kiosk_button_does_not(
    kivy_display: str,
) -> None:
    from kivy.factory import Factory
    from kivy.uix.label import Label

    from kiosk.ui.testing import run_app

    async with run_app(ScriptedEngine(), size=(800, 480)) as pilot:
        # The call buttons as they were: 26 px type on a button 150 px wide.
        plain: Any = Label(
            text="Vis legitimasjon",
            font_size=26,
            bold=True,
            size_hint=(None, None),
            size=(150, 100),
            text_size=(126, None),
            halign="center",
        )
        fitted: Any = Factory.KioskButton(
            text="Vis legitimasjon", role="small", size_hint=(None, None), width=150
        )
        fitted.pos = (300, 100)
        for widget in (plain, fitted):
            pilot.app.root.add_widget(widget)
        await pilot.settled()
        lines = laid_out_lines(plain)
        assert lines[0] == "Vis" and "".join(lines[1:]) == "legitimasjon", lines
        found = layout_defects([plain, fitted], (800, 480), "known-bad")
        assert [(d.widget, d.problem) for d in found] == [
            ("Label 'Vis legitimasjon'", f"word broken: {lines[1]}|{lines[2]}")
        ]
        assert broken_words(fitted.text, laid_out_lines(fitted)) == []
        assert fitted.font_size >= pilot.app.sizes.font_min - 0.01
