from __future__ import annotations

import pytest

from kiosk.ui.theme import TEXT_PAIRS, THEME, contrast_ratio, hex_rgba


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    black, white = hex_rgba("#000000"), hex_rgba("#ffffff")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # WebAIM: #777777 on white is 4.48:1, just below AA for normal text.
    assert contrast_ratio(hex_rgba("#777777"), white) == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("pair", TEXT_PAIRS, ids=lambda p: p.name)
def test_every_text_colour_meets_wcag_aa(pair: object) -> None:
    from kiosk.ui.theme import TextPair

    assert isinstance(pair, TextPair)
    needed = 3.0 if pair.large else 4.5
    assert contrast_ratio(pair.foreground, pair.background) >= needed


def test_the_end_button_is_yellow_with_dark_text() -> None:
    r, g, b, _ = THEME.end_button
    assert r > 0.9 and g > 0.7 and b < 0.2
    assert contrast_ratio(THEME.end_text, THEME.end_button) >= 7.0


def test_touch_targets_and_type_are_large() -> None:
    # WCAG 2.5.5 asks 44 px; elderly fingers get more than twice that.
    assert min(THEME.key_size, THEME.button_height) >= 88
    assert THEME.font_small >= 24


def test_a_malformed_colour_is_refused() -> None:
    with pytest.raises(ValueError, match="#rrggbb"):
        hex_rgba("yellow")
