"""Sizes in pixels for the window the kiosk has, recomputed whenever the window changes.

The theme's sizes are drawn for a 1280x800 panel (800x1280 standing). Other panels scale
from there, by the smaller of the two ratios so that everything fits, with floors that keep
type readable and targets touchable on the smallest panels (the Raspberry Pi's 800x480 and
1024x600 7" displays); those are "compact" and the screens show less on them. Large text
multiplies the type only. The KV rules read these as `app.sizes.<name>`, so a change of
window or of large text redraws every screen.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.properties import BooleanProperty, NumericProperty

from kiosk.ui.theme import THEME, Theme

LANDSCAPE = (1280.0, 800.0)
PORTRAIT = (800.0, 1280.0)
MIN_SCALE, MAX_SCALE = 0.6, 1.6
# Type shrinks less than the layout: on a 7" 800x480 panel 0.75 of the design size is about
# what a 10" panel shows at 0.6, and still larger than a phone's.
MIN_TYPE_SCALE = 0.75
# About 12 mm on the least dense panel (800x480 on 7", 5.2 px/mm).
MIN_TARGET_PX = 64.0
# A label may shrink to fit its words, down to this share of the design's smallest type.
FIT_SHARE = 0.75
MIN_FONT_PX = 16.0
# Landscape panels lower than this show fewer things at once.
COMPACT_HEIGHT = 700


class Sizes(EventDispatcher):  # type: ignore[misc]
    portrait = BooleanProperty(False)
    compact = BooleanProperty(False)
    scale = NumericProperty(1.0)
    padding = NumericProperty(THEME.padding)
    spacing = NumericProperty(THEME.spacing)
    gap = NumericProperty(8.0)
    radius = NumericProperty(THEME.radius)
    key = NumericProperty(THEME.key_size)
    button = NumericProperty(THEME.button_height)
    button_min_width = NumericProperty(THEME.button_min_width)
    end_button = NumericProperty(THEME.end_button_width)
    self_view = NumericProperty(THEME.self_view_width)
    font_huge = NumericProperty(THEME.font_huge)
    font_title = NumericProperty(THEME.font_title)
    font_body = NumericProperty(THEME.font_body)
    font_small = NumericProperty(THEME.font_small)
    font_key = NumericProperty(THEME.font_key)
    # The least any text may be shrunk to so that its words fit.
    font_min = NumericProperty(THEME.font_small * FIT_SHARE)

    def __init__(self, theme: Theme = THEME, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._theme = theme
        self._window = LANDSCAPE
        self._text_factor = 1.0

    def update(
        self, window: tuple[float, float] | None = None, text_factor: float | None = None
    ) -> None:
        if window is not None:
            self._window = (float(window[0]), float(window[1]))
        if text_factor is not None:
            self._text_factor = text_factor
        width, height = self._window
        theme = self._theme
        portrait = height > width
        ref_w, ref_h = PORTRAIT if portrait else LANDSCAPE
        scale = min(MAX_SCALE, max(MIN_SCALE, min(width / ref_w, height / ref_h)))
        type_scale = max(scale, MIN_TYPE_SCALE)
        text = type_scale * self._text_factor
        self.portrait = portrait
        self.compact = not portrait and height < COMPACT_HEIGHT
        self.scale = scale
        self.padding = theme.padding * scale
        self.spacing = theme.spacing * scale
        self.gap = 8.0 * scale
        self.radius = theme.radius * scale
        self.key = max(theme.key_size * scale, MIN_TARGET_PX)
        self.button = max(theme.button_height * scale, MIN_TARGET_PX)
        self.button_min_width = theme.button_min_width * type_scale
        self.end_button = theme.end_button_width * type_scale
        self.self_view = theme.self_view_width * scale
        self.font_huge = theme.font_huge * text
        self.font_title = theme.font_title * text
        self.font_body = theme.font_body * text
        self.font_small = theme.font_small * text
        self.font_key = theme.font_key * text
        self.font_min = max(MIN_FONT_PX, theme.font_small * type_scale * FIT_SHARE)
