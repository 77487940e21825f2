"""What each screen reads aloud, and which check lines are read when (no display needed)."""

from __future__ import annotations

import dataclasses

from kiosk.session.state import CheckStatus, ErrorKind, Phase, SessionState
from kiosk.ui.i18n import Catalogues
from kiosk.ui.messages import ADVICE, CHECK_NAMES, ShownLine
from kiosk.ui.spoken import CheckReader, idle_warning_reading, screen_reading, sentence

CATALOGUES = Catalogues(["nb", "en"])


def nb(message: str) -> str:
    return CATALOGUES.gettext("nb", message)


def en(message: str) -> str:
    return CATALOGUES.gettext("en", message)


def test_each_patient_screen_reads_its_own_words() -> None:
    state = SessionState()
    readings = {
        phase: screen_reading(dataclasses.replace(state, phase=phase), nb, "") for phase in Phase
    }
    assert readings[Phase.IDLE] == (
        "Videokonsultasjon. Trykk for å starte. Du trenger det sekssifrede nummeret fra SMS-en."
    )
    assert readings[Phase.WAITING].startswith("Du banker på. ")
    assert readings[Phase.CHECKS].startswith("Vi sjekker kamera og lyd.")
    spoken = {phase for phase, text in readings.items() if text}
    assert spoken == {
        Phase.IDLE, Phase.NUMBER, Phase.CHECKS, Phase.JOINING, Phase.WAITING, Phase.ENDED,
    }  # fmt: skip


def test_an_error_reads_what_happened_what_to_do_and_the_phone_number() -> None:
    state = SessionState(phase=Phase.ERROR, error=ErrorKind.NOT_FOUND)
    reading = screen_reading(state, en, "Need help? Call the clinic on 22 11 44 00.")
    assert reading == (
        "We could not find that number. Check the six digits in the text message and try "
        "again. Need help? Call the clinic on 22 11 44 00."
    )


def test_back_in_the_waiting_room_and_the_idle_warning() -> None:
    again = SessionState(phase=Phase.WAITING, call_started_at=5.0)
    assert "The clinician will let you in again soon." in screen_reading(again, en, "")
    assert idle_warning_reading(SessionState(), en) == (
        "Are you still there? The screen starts over in 30 seconds. Tap “I am here” to go on."
    )


def test_sentence_ends_each_text_once() -> None:
    assert [sentence(t) for t in ("Tap to start", "Done.", "Connecting…", " ")] == [
        "Tap to start.",
        "Done.",
        "Connecting…",
        "",
    ]


def line(check: str, key: str, status: CheckStatus) -> ShownLine:
    return ShownLine(CHECK_NAMES[check], ADVICE[key], status)


def test_check_lines_are_read_once_all_answered_then_only_lasting_changes() -> None:
    reader = CheckReader()
    running = (
        line("camera", "camera.ok", CheckStatus.PASS),
        line("speaker", "speaker.playing", CheckStatus.RUNNING),
        line("microphone", "microphone.say_something", CheckStatus.RUNNING),
    )
    answered = (
        line("camera", "camera.ok", CheckStatus.PASS),
        line("light", "light.backlit", CheckStatus.WARN),
        line("speaker", "speaker.ok", CheckStatus.PASS),
        line("microphone", "microphone.say_something", CheckStatus.RUNNING),
    )
    better = (*answered[:1], line("light", "light.ok", CheckStatus.PASS), *answered[2:])
    history = [
        reader.update(running),  # the chime is playing: nothing yet
        reader.update(answered),  # all answered but the patient's voice: read them
        reader.update(answered),
        reader.update(better),  # the light changed once: wait
        reader.update(answered),  # ...and changed back: nothing to say
        reader.update(better),
        reader.update(better),  # held: read the new advice
        reader.update(better),
    ]
    assert [[(shown.name, shown.advice) for shown in read] for read in history] == [
        [],
        [
            ("Camera", "The camera works."),
            ("Light", "Do not sit with the window behind you."),
            ("Sound", "The sound works."),
        ],
        [],
        [],
        [],
        [],
        [("Light", "The light is good.")],
        [],
    ]
    reader.reset()
    assert [s.name for s in reader.update(answered)] == ["Camera", "Light", "Sound"]
