"""One Kivy screen per session phase. Layout lives in assets/kv/<phase>.kv; these classes only
derive what the KV rules show from the state they are given (attributes down) and leave
intents to the buttons (messages up, through `app.send`)."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.session import events as ev
from kiosk.session.state import ErrorKind, Phase, SessionState
from kiosk.ui.keyboard import key_id, letter_rows
from kiosk.ui.messages import ERRORS, ErrorText, any_failed, check_lines

MAX_NAME = 60
# Check advice that asks the patient whether the test sound was heard.
CHIME_ADVICE = frozenset({"speaker.confirm", "speaker.playing"})


class PhaseScreen(Screen):  # type: ignore[misc]
    state = ObjectProperty(SessionState(), rebind=True)

    def show(self, state: SessionState) -> None:
        self.state = state


class IdleScreen(PhaseScreen):
    pass


class NumberScreen(PhaseScreen):
    slots = ListProperty([""] * 6)

    def show(self, state: SessionState) -> None:
        super().show(state)
        self.slots = [state.digits[i] if i < len(state.digits) else "" for i in range(6)]


def _fill_check_lines(screen: Screen, state: SessionState) -> list[tuple[str, str, str]]:
    """Draw the check lines into the screen's `lines` box; returns (name, advice, status)."""
    shown = check_lines(state.checks)
    box = screen.ids.get("lines")
    if box is not None:
        box.clear_widgets()
        for line in shown:
            box.add_widget(
                Factory.CheckLineView(
                    check=line.name,
                    advice=line.advice,
                    values=dict(line.values),
                    status=line.status.value,
                )
            )
    return [(line.name, line.advice, line.status.value) for line in shown]


class ChecksScreen(PhaseScreen):
    # (name id, advice id, status value) per line; the KV rule draws them.
    lines = ListProperty([])
    asks_for_chime = ObjectProperty(False)
    failed = BooleanProperty(False)

    def show(self, state: SessionState) -> None:
        super().show(state)
        summary = state.checks
        self.asks_for_chime = summary is not None and any(
            line.name == "speaker" and line.advice in CHIME_ADVICE for line in summary.lines
        )
        self.failed = any_failed(summary)
        self.lines = _fill_check_lines(self, state)

    def on_asks_for_chime(self, _instance: object, asks: bool) -> None:
        # Hidden again, the button must give back the width its row gave it while shown;
        # a width rule in KV is applied once, and the question comes and goes.
        heard = self.ids.get("heard")
        if heard is not None and not asks:
            heard.width = 0


class JoiningScreen(PhaseScreen):
    pass


class WaitingScreen(PhaseScreen):
    elapsed = StringProperty("00:00")


class InCallScreen(PhaseScreen):
    # The nurse may leave once the clinician has let the patient in (set by the app's clock).
    nurse_may_leave = BooleanProperty(False)


class ReconnectingScreen(PhaseScreen):
    pass


class EndedScreen(PhaseScreen):
    pass


_NO_ERROR = ERRORS[ErrorKind.PROTOCOL]


class ErrorScreen(PhaseScreen):
    error = ObjectProperty(_NO_ERROR)
    actions = ListProperty([])

    def show(self, state: SessionState) -> None:
        super().show(state)
        text: ErrorText = ERRORS.get(state.error, _NO_ERROR) if state.error else _NO_ERROR
        self.error = text
        self.actions = [action.value for action in text.actions]


class WipingScreen(PhaseScreen):
    pass


class StaffPinScreen(PhaseScreen):
    dots = StringProperty("")  # one dot per typed digit; the digits themselves never show
    # Seconds until the pad takes a PIN again (set by the app's clock).
    wait_s = NumericProperty(0)

    def show(self, state: SessionState) -> None:
        super().show(state)
        self.dots = " ".join("\u2022" * len(state.pin_digits))


class NurseScreen(PhaseScreen):
    slots = ListProperty([""] * 6)
    # What the nurse typed; kept here because the session strips trailing spaces.
    typed_name = StringProperty("")

    def on_kv_post(self, _base_widget: object) -> None:
        # The keys follow the language, including the Space and Delete labels.
        self._delete_key: Any = None
        App.get_running_app().bind(t=self._build_keyboard)
        self.bind(typed_name=self._update_delete)
        self._build_keyboard()

    def _update_delete(self, *_args: object) -> None:
        if self._delete_key is not None:
            self._delete_key.disabled = not self.typed_name

    def _build_keyboard(self, *_args: object) -> None:
        app = App.get_running_app()
        box = self.ids.letters
        for old in [key for key in self.ids if key.startswith("letter_")]:
            del self.ids[old]
        box.clear_widgets()
        rows = letter_rows(app.language)
        for index, letters in enumerate(rows):
            row = Factory.LetterRow()
            for letter in letters:
                row.add_widget(self._key(key_id(letter), letter, letter))
            if index == len(rows) - 1:
                space = self._key("letter_space", app.t["Space"], " ")
                space.size_hint_x = 3
                row.add_widget(space)
                delete = self._key("letter_delete", app.t["Delete"], None)
                delete.size_hint_x = 2
                self._delete_key = delete
                self._update_delete()
                row.add_widget(delete)
            box.add_widget(row)

    def _key(self, widget_id: str, label: str, letter: str | None) -> Any:
        key = Factory.LetterKey(text=label)
        if letter is None:
            key.bind(on_release=lambda _key: self.delete_letter())
        else:
            key.bind(on_release=lambda _key, typed=letter: self.type_letter(typed))
        self.ids[widget_id] = key
        return key

    def show(self, state: SessionState) -> None:
        super().show(state)
        self.slots = [state.digits[i] if i < len(state.digits) else "" for i in range(6)]
        if state.phase is not Phase.NURSE:
            self.typed_name = state.display_name

    def type_letter(self, letter: str) -> None:
        """Add a key's letter: capital at the start of each part of the name, small after."""
        typed = self.typed_name
        if len(typed) >= MAX_NAME:
            return
        if letter == " " and (not typed or typed.endswith(" ")):
            return
        starts_word = not typed or typed[-1] in " -"
        self._set_name(typed + (letter.upper() if starts_word else letter.lower()))

    def delete_letter(self) -> None:
        self._set_name(self.typed_name[:-1])

    def _set_name(self, name: str) -> None:
        self.typed_name = name
        App.get_running_app().send(ev.SetDisplayName(name))


class MaintenanceScreen(PhaseScreen):
    lines = ListProperty([])
    # The measured figures behind each line, for IT (never anything about a patient).
    details = StringProperty("")

    def show(self, state: SessionState) -> None:
        super().show(state)
        self.lines = _fill_check_lines(self, state)
        summary = state.checks
        self.details = (
            "\n".join(f"{line.name}: {line.detail}" for line in summary.lines if line.detail)
            if summary is not None
            else ""
        )


SCREENS: dict[Phase, type[PhaseScreen]] = {
    Phase.IDLE: IdleScreen,
    Phase.NUMBER: NumberScreen,
    Phase.CHECKS: ChecksScreen,
    Phase.JOINING: JoiningScreen,
    Phase.WAITING: WaitingScreen,
    Phase.IN_CALL: InCallScreen,
    Phase.RECONNECTING: ReconnectingScreen,
    Phase.ENDED: EndedScreen,
    Phase.ERROR: ErrorScreen,
    Phase.WIPING: WipingScreen,
    Phase.STAFF_PIN: StaffPinScreen,
    Phase.NURSE: NurseScreen,
    Phase.MAINTENANCE: MaintenanceScreen,
}


class LanguageRow(BoxLayout):  # type: ignore[misc]
    """A button per configured language, each labelled in its own language; a row that is
    not `shown` takes no room."""

    languages = ListProperty([])
    shown = BooleanProperty(True)

    def __init__(self, **kwargs: Any) -> None:
        self._sizes = App.get_running_app().sizes
        super().__init__(**kwargs)
        self._sizes.fbind("button", self._place)
        self.fbind("shown", self._place)
        self._place()

    def _place(self, *_args: object) -> None:
        self.height = self._sizes.button if self.shown else 0
        self.opacity = 1 if self.shown else 0
        self.disabled = not self.shown

    def on_languages(self, _instance: object, languages: list[str]) -> None:
        self.clear_widgets()
        for code in languages:
            button = Factory.LanguageButton()
            button.code = code
            self.ids[f"lang_{code}"] = button
            self.add_widget(button)
