"""One Kivy screen per session phase. Layout lives in assets/kv/<phase>.kv; these classes only
derive what the KV rules show from the state they are given (attributes down) and leave
intents to the buttons (messages up, through `app.send`)."""

from __future__ import annotations

from kivy.factory import Factory
from kivy.properties import ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.screenmanager import Screen

from kiosk.session.state import CheckStatus, ErrorKind, Phase, SessionState
from kiosk.ui.messages import ERRORS, ErrorText, check_lines


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


class ChecksScreen(PhaseScreen):
    # (name id, advice id, status value) per line; the KV rule draws them.
    lines = ListProperty([])
    asks_for_chime = ObjectProperty(False)

    def show(self, state: SessionState) -> None:
        super().show(state)
        shown = check_lines(state.checks)
        self.lines = [(line.name, line.advice, line.status.value) for line in shown]
        summary = state.checks
        self.asks_for_chime = summary is not None and any(
            line.name == "speaker" and line.status is not CheckStatus.PASS for line in summary.lines
        )
        box = self.ids.get("lines")
        if box is not None:
            box.clear_widgets()
            for name, advice, status in self.lines:
                box.add_widget(Factory.CheckLineView(check=name, advice=advice, status=status))


class JoiningScreen(PhaseScreen):
    pass


class WaitingScreen(PhaseScreen):
    elapsed = StringProperty("00:00")


class InCallScreen(PhaseScreen):
    pass


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
}


class LanguageRow(BoxLayout):  # type: ignore[misc]
    """A button per configured language, each labelled in its own language."""

    languages = ListProperty([])

    def on_languages(self, _instance: object, languages: list[str]) -> None:
        self.clear_widgets()
        for code in languages:
            button = Factory.LanguageButton()
            button.code = code
            self.ids[f"lang_{code}"] = button
            self.add_widget(button)
