"""The few widget classes the KV rules style; their look is in assets/kv/common.kv.

Kivy keeps every rule's binding for a property, so a property bound in a class rule and again
in an instance rule takes whichever value was computed last. The values that screens vary
(type size, a button's colours and height, whether a label takes room) are therefore worked
out here from plain settings the rules give (`role`, `kind`, `tall`, `shown`), never bound twice.
"""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    DictProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.widget import Widget

from kiosk.ui.fit import block_size, fit_label

ROLES = ("huge", "title", "body", "small", "key")


def _app() -> Any:
    return App.get_running_app()


class FitText:
    """Type of the size its `role` has on this window (times `shrink`, which a `FitColumn`
    sets), made smaller still, never below the window's least size, until each word fits on
    a line and, with `fit_height`, all lines fit in the widget: a label never breaks inside a
    word. With `size_hint_y` None its height follows its text, and a label that is not
    `shown` (or has no text) takes no room at all."""

    role = OptionProperty("body", options=ROLES)
    shrink = NumericProperty(1.0)
    fit_height = BooleanProperty(False)
    shown = BooleanProperty(True)
    # Height beyond the text's own.
    spare = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        # Kept: the widget may be laid out once more while the app is being stopped.
        self._sizes = _app().sizes
        super().__init__(**kwargs)
        me: Any = self
        names = ("text", "width", "height", "text_size", "role", "shrink", "bold", "padding")
        for name in names:
            me.fbind(name, self._refit)
        for name in (*(f"font_{role}" for role in ROLES), "font_min"):
            self._sizes.fbind(name, self._refit)
        for name in ("texture_size", "spare", "shown", "text", "size_hint_y"):
            me.fbind(name, self._resize)
        self._refit()
        self._resize()

    @property
    def font_wanted(self) -> float:
        return float(getattr(self._sizes, f"font_{self.role}"))

    def _fitted(self, shrink: float) -> float:
        label: Any = self
        least = min(self.font_wanted, float(self._sizes.font_min))
        wanted = max(least, self.font_wanted * shrink)
        width = label.text_size[0] if label.text_size[0] is not None else label.width
        height = label.height - label.padding[1] - label.padding[3] if self.fit_height else None
        return fit_label(
            label.text,
            wanted,
            least,
            width,
            height,
            bold=label.bold,
            font_name=label.font_name,
            line_height=label.line_height,
        )

    def _refit(self, *_args: object) -> None:
        me: Any = self
        me.font_size = self._fitted(self.shrink)

    def _resize(self, *_args: object) -> None:
        me: Any = self
        if me.size_hint_y is not None or self.fit_height:
            return
        visible = self.shown and bool(me.text)
        me.height = me.texture_size[1] + self.spare if visible else 0
        if not self.shown:
            me.opacity = 0

    def on_shown(self, _instance: object, shown: bool) -> None:
        me: Any = self
        me.opacity = 1 if shown else 0
        me.disabled = not shown

    def natural_height(self, shrink: float) -> float | None:
        """The height this label would take with its type at `shrink` (a button's own height;
        None for one its layout stretches)."""
        label: Any = self
        if label.size_hint_y is not None:
            return None
        if self.fit_height:
            return float(label.height)
        if not label.text or not self.shown:
            return 0.0
        width = label.text_size[0] if label.text_size[0] is not None else label.width
        size = self._fitted(shrink)
        _, text_height = block_size(
            label.text, size, width, label.bold, label.font_name, label.line_height
        )
        return float(text_height + label.padding[1] + label.padding[3] + self.spare)


class KioskLabel(FitText, Label):  # type: ignore[misc]
    pass


class KioskButton(FitText, Button):  # type: ignore[misc]
    """A button of one `kind`: "key" (most), "primary" (the one that moves on), "end" (the
    clinic's yellow button), "toggle" (a setting, drawn like "primary" while `active`) or
    "plain" (no background of its own). `tall` times the window's button height, unless a
    layout sizes it."""

    kind = OptionProperty("key", options=("key", "primary", "end", "toggle", "plain"))
    active = BooleanProperty(False)
    tall = NumericProperty(1.0)
    # The rounded background; a property so the canvas has a colour before the rule runs.
    fill = ColorProperty([0, 0, 0, 0])

    def __init__(self, **kwargs: Any) -> None:
        self._theme = _app().theme
        super().__init__(**kwargs)
        for name in ("kind", "active", "disabled", "state"):
            self.fbind(name, self._colour)
        for name in ("tall", "shown", "size_hint_y"):
            self.fbind(name, self._place)
        self._sizes.fbind("button", self._place)
        self._colour()
        self._place()

    def _colour(self, *_args: object) -> None:
        theme = self._theme
        kind = self.kind
        if kind == "plain":
            self.fill, self.color = theme.background, theme.text
        elif kind == "end":
            self.fill, self.color = theme.end_button, theme.end_text
        elif self.disabled:
            self.fill = theme.disabled
        elif kind == "primary" or (kind == "toggle" and self.active):
            down = self.state == "down" and kind == "primary"
            self.fill = theme.key_pressed if down else theme.primary
            self.color = theme.primary_text
        else:
            self.fill = theme.key_pressed if self.state == "down" else theme.key
            self.color = theme.text
        self.disabled_color = theme.disabled_text

    def _place(self, *_args: object) -> None:
        if self.size_hint_y is None:
            self.height = self._sizes.button * self.tall if self.shown else 0


def natural_height(widget: Any, shrink: float) -> float | None:
    """What `widget` would need in a column with its type at `shrink`: its label's measure,
    a box's children summed (or the tallest, across), None for what stretches."""
    measure = getattr(widget, "natural_height", None)
    if measure is not None:
        found = measure(shrink)
        return None if found is None else float(found)
    if widget.size_hint_y is not None:
        return None
    if isinstance(widget, BoxLayout) and widget.children:
        heights = [natural_height(child, shrink) for child in widget.children]
        if all(h is None for h in heights):
            return float(widget.height)  # its children fill whatever height it has
        known = [h if h is not None else 0.0 for h in heights]
        if widget.orientation == "vertical":
            spacing = widget.spacing * (len(known) - 1)
            inner = sum(known) + spacing
        else:
            inner = max(known)
        return max(
            float(widget.minimum_height), float(inner + widget.padding[1] + widget.padding[3])
        )
    return float(widget.height)


def set_shrink(widget: Any, shrink: float) -> None:
    for child in widget.walk(restrict=True):
        if isinstance(child, FitText):
            child.shrink = shrink


class Screens(ScreenManager):  # type: ignore[misc]
    """The screen of each phase, one at a time and in place (no transition, no clipping)."""


class FitColumn(BoxLayout):  # type: ignore[misc]
    """A vertical box whose text shrinks together, by one factor down to `least_shrink` (and
    each text never below its own floor), until everything fits the box's height. The gaps
    between its children (`gaps`, set instead of `spacing`) close up by half as much."""

    least_shrink = NumericProperty(0.45)
    shrink = NumericProperty(1.0)
    gaps = NumericProperty(0)

    def do_layout(self, *args: Any) -> None:
        available = self.height - self.padding[1] - self.padding[3]
        shrink = 1.0
        if self._needed(1.0) > available:
            low, high = self.least_shrink, 1.0
            for _ in range(8):
                middle = (low + high) / 2
                if self._needed(middle) > available:
                    high = middle
                else:
                    low = middle
            shrink = low
        self.spacing = self._spacing(shrink)
        if shrink != self.shrink:
            self.shrink = shrink
            for child in self.children:
                set_shrink(child, shrink)
        super().do_layout(*args)

    def _spacing(self, shrink: float) -> float:
        return float(self.gaps * (1 + shrink) / 2)

    def _needed(self, shrink: float) -> float:
        heights = [natural_height(child, shrink) for child in self.children]
        total = sum(h for h in heights if h is not None)
        return float(total + self._spacing(shrink) * max(0, len(self.children) - 1))


class CheckLineView(BoxLayout):  # type: ignore[misc]
    check = StringProperty("")  # message id of the check's name
    advice = StringProperty("")  # message id of the sentence
    values = DictProperty({})  # placeholders in the sentence
    status = StringProperty("running")
    tone = ColorProperty([1, 1, 1, 1])
    # The least height of a line, as a share of its type size: room for the status dot.
    dot_share = NumericProperty(1.5)

    def natural_height(self, shrink: float) -> float | None:
        label = self.ids.text
        text = natural_height(label, shrink) or 0.0
        return max(float(label._fitted(shrink) * self.dot_share), text)


class CornerGesture(Widget):  # type: ignore[misc]
    """An invisible patch: held for `hold_s` it fires `on_long_press`; a shorter touch is an
    ordinary `on_short_tap`, so a patient who taps the corner still gets what a tap gives."""

    hold_s = NumericProperty(3.0)
    __events__ = ("on_long_press", "on_short_tap")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending: dict[int, ClockEvent] = {}
        self._fired: set[int] = set()

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        uid = touch.uid
        self._pending[uid] = Clock.schedule_once(lambda _dt: self._fire(uid), self.hold_s)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        return touch.grab_current is self

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        pending = self._pending.pop(touch.uid, None)
        if pending is not None:
            pending.cancel()
        if touch.uid in self._fired:
            self._fired.discard(touch.uid)
        elif self.collide_point(*touch.pos):
            self.dispatch("on_short_tap")
        return True

    def _fire(self, uid: int) -> None:
        if self._pending.pop(uid, None) is not None:
            self._fired.add(uid)
            self.dispatch("on_long_press")

    def on_long_press(self) -> None:
        pass

    def on_short_tap(self) -> None:
        pass


class Overlay(FloatLayout):  # type: ignore[misc]
    """Drawn over the screen while `shown`; then it takes every touch, so nothing behind it
    reacts. Hidden, it lets every touch through."""

    shown = BooleanProperty(False)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_move(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_up(touch)
        return True


class BusySpinner(Widget):  # type: ignore[misc]
    """A turning arc while `active` (a PIN being checked)."""

    active = BooleanProperty(False)
    angle = NumericProperty(0.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._turning: ClockEvent | None = None

    def on_active(self, _instance: object, active: bool) -> None:
        if active and self._turning is None:
            self._turning = Clock.schedule_interval(self._turn, 1 / 30)
        elif not active and self._turning is not None:
            self._turning.cancel()
            self._turning = None

    def _turn(self, dt: float) -> None:
        self.angle = (self.angle + 360 * dt) % 360
