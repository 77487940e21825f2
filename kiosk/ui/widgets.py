"""The few widget classes the KV rules style; their look is all in assets/kv/common.kv."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock, ClockEvent
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    DictProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.widget import Widget


class KioskButton(Button):  # type: ignore[misc]
    # The rounded background; a property so the canvas has a colour before the rule runs.
    fill = ColorProperty([0, 0, 0, 0])


class CheckLineView(BoxLayout):  # type: ignore[misc]
    check = StringProperty("")  # message id of the check's name
    advice = StringProperty("")  # message id of the sentence
    values = DictProperty({})  # placeholders in the sentence
    status = StringProperty("running")
    tone = ColorProperty([1, 1, 1, 1])


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
