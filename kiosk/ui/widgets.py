"""The few widget classes the KV rules style; their look is all in assets/kv/common.kv."""

from __future__ import annotations

from kivy.properties import ColorProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button


class KioskButton(Button):  # type: ignore[misc]
    # The rounded background; a property so the canvas has a colour before the rule runs.
    fill = ColorProperty([0, 0, 0, 0])


class CheckLineView(BoxLayout):  # type: ignore[misc]
    check = StringProperty("")  # message id of the check's name
    advice = StringProperty("")  # message id of the sentence
    status = StringProperty("running")
    tone = ColorProperty([1, 1, 1, 1])
