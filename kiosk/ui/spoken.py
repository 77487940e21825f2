"""What the kiosk reads aloud: each screen's main instruction, and the checks' advice as the
results settle. Pure functions over the state; `tr` translates a message id.

The sentences are the screen's own (the same message ids), so what is heard is what is read.
"""

from __future__ import annotations

from collections.abc import Callable

from kiosk.session.state import CheckStatus, Phase, SessionState
from kiosk.ui.i18n import N_
from kiosk.ui.messages import ADVICE, ERRORS, ShownLine

Translate = Callable[[str], str]

SCREEN_MESSAGES: dict[Phase, tuple[str, ...]] = {
    Phase.IDLE: (
        N_("Video consultation"),
        N_("Tap to start"),
        N_("You will need the six-digit number from the text message."),
    ),
    Phase.NUMBER: (
        N_("Type the six-digit number from the text message."),
        N_("The number is in the text message from the clinic."),
    ),
    Phase.CHECKS: (
        N_("Let us check the camera and the sound."),
        N_("Sit so you can see your face in the picture."),
    ),
    Phase.JOINING: (N_("Connecting…"), N_("This takes a few seconds.")),
    Phase.WAITING: (
        N_("You are knocking."),
        N_("The clinician will let you in soon."),
        N_("Stay in front of the screen. You do not need to do anything."),
    ),
    Phase.ENDED: (
        N_("Thank you for the consultation."),
        N_("Your clinician has agreed the follow-up with you."),
        N_("Nothing from the consultation is stored on this kiosk."),
    ),
}
WAITING_AGAIN = N_("The clinician will let you in again soon.")
IDLE_QUESTION = N_("Are you still there?")
IDLE_COUNTDOWN = N_("The screen starts over in {seconds} seconds.")
IDLE_ANSWER = N_("Tap “I am here” to go on.")
# Waits only for the patient to speak: not a result yet, but nothing else will come first.
_AWAITS_VOICE = ADVICE["microphone.say_something"]


def sentence(text: str) -> str:
    """`text` ending as a sentence, so the voice pauses after it."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…:" else f"{text}."


def joined(texts: list[str]) -> str:
    return " ".join(sentence(text) for text in texts if text.strip())


def screen_reading(state: SessionState, tr: Translate, phone: str) -> str:
    """The instruction of the screen `state` shows ("" for a screen that is not read);
    `phone` is the screen's help line, already in the patient's language."""
    if state.phase is Phase.ERROR and state.error is not None:
        error = ERRORS[state.error]
        return joined([tr(error.title), tr(error.body), phone])
    messages = list(SCREEN_MESSAGES.get(state.phase, ()))
    if state.phase is Phase.WAITING and state.call_started_at is not None:
        messages[1] = WAITING_AGAIN
    return joined([tr(message) for message in messages])


def idle_warning_reading(state: SessionState, tr: Translate) -> str:
    seconds = int(state.timing.idle_warning_s)
    return joined([tr(IDLE_QUESTION), tr(IDLE_COUNTDOWN).format(seconds=seconds), tr(IDLE_ANSWER)])


def line_reading(line: ShownLine, tr: Translate) -> str:
    return sentence(f"{tr(line.name)}: {tr(line.advice).format(**dict(line.values))}")


class CheckReader:
    """Which check lines to read as the results come: all of them once every check has
    answered (the chime has played by then), then a line whose advice changed once it has
    held for a second summary, so a flickering light is not read out each time."""

    def __init__(self) -> None:
        self._read: dict[str, str] = {}
        self._seen: dict[str, str] = {}
        self._started = False

    def reset(self) -> None:
        self._read, self._seen, self._started = {}, {}, False

    def update(self, lines: tuple[ShownLine, ...]) -> tuple[ShownLine, ...]:
        settled = [line for line in lines if line.status is not CheckStatus.RUNNING]
        if not self._started:
            waiting = [line for line in lines if line.status is CheckStatus.RUNNING]
            if not settled or any(line.advice != _AWAITS_VOICE for line in waiting):
                return ()
            self._started = True
            self._read = {line.name: line.advice for line in settled}
            return tuple(settled)
        due = []
        for line in settled:
            if self._read.get(line.name) == line.advice:
                self._seen.pop(line.name, None)
            elif self._seen.get(line.name) == line.advice:
                self._read[line.name] = line.advice
                self._seen.pop(line.name, None)
                due.append(line)
            else:
                self._seen[line.name] = line.advice
        return tuple(due)
