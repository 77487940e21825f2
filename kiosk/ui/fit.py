"""Type that fits its widget: the largest size, up to the one asked for, at which every word
fits on a line of its own (so a line never breaks inside a word) and, for a widget of fixed
height, all the lines fit in it; never smaller than a floor that keeps it readable.

Measuring goes through Kivy's text provider without drawing (a few microseconds a word), and
is remembered, since screens are laid out again on every change of state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

from kivy.core.text import Label as CoreLabel

_BREAKS = re.compile(r"[ \n]+")
# (text, font size) -> (width, height) in pixels
Measure = Callable[[str, float], tuple[float, float]]


def fitted_font_size(
    text: str,
    wanted: float,
    least: float,
    width: float,
    height: float | None,
    word_width: Measure,
    block_size: Callable[[str, float, float], tuple[float, float]],
) -> float:
    """The largest size in [least, wanted] at which no word of `text` is wider than `width`
    and (unless `height` is None) the text wrapped to `width` is no taller than `height`;
    `least` when none is."""
    # Lines break at spaces and newlines only: a no-break space keeps "til …" together.
    words = [word for word in _BREAKS.split(text) if word]
    if not words or width <= 0 or wanted <= least:
        return wanted
    size = wanted
    while size > least:
        widest = max(word_width(word, size)[0] for word in words)
        if widest > width:
            # Word widths grow about linearly with the size: jump close, then step.
            size = max(least, min(size - 1.0, math.floor(size * width / widest)))
            continue
        if height is not None and block_size(text, size, width)[1] > height:
            size = max(least, size - 1.0)
            continue
        return size
    return least


@lru_cache(maxsize=8192)
def _extent(text: str, size: float, bold: bool, font_name: str) -> tuple[float, float]:
    label = CoreLabel(font_size=size, bold=bold, font_name=font_name)
    label.resolve_font_name()
    w, h = label.get_extents(text)
    return float(w), float(h)


@lru_cache(maxsize=4096)
def block_size(
    text: str, size: float, width: float, bold: bool, font_name: str, line_height: float
) -> tuple[float, float]:
    """Width and height of `text` wrapped to `width` at `size`."""
    label = CoreLabel(
        text=text,
        font_size=size,
        bold=bold,
        font_name=font_name,
        text_size=(width, None),
        line_height=line_height,
    )
    label.resolve_font_name()
    w, h = label.render()
    return float(w), float(h)


def fit_label(
    text: str,
    wanted: float,
    least: float,
    width: float,
    height: float | None,
    *,
    bold: bool = False,
    font_name: str = "Roboto",
    line_height: float = 1.0,
) -> float:
    """`fitted_font_size` measured with Kivy's text provider, in the given font."""
    return fitted_font_size(
        text,
        wanted,
        least,
        width,
        height,
        lambda word, size: _extent(word, size, bold, font_name),
        lambda block, size, w: block_size(block, size, w, bold, font_name, line_height),
    )
