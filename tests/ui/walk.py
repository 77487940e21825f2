"""Every screen and overlay the patient or staff can meet, reached through the real session
machine on a scripted engine, with the variants that change what a screen says: each error
kind, each refusal notice, each line a check can show, each ID-card hint, the device notices,
the recording banner, the connection badge.

`walk` yields a name once each is on screen; the caller looks at it (layout, screenshots)
before asking for the next.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

from kiosk.base.clock import ManualClock
from kiosk.engine.view import DeviceNotice
from kiosk.session import events as ev
from kiosk.session.state import CheckLine, CheckStatus, CheckSummary, ErrorKind, StaffRole
from kiosk.ui.messages import ADVICE, CARD_HINTS, NOTICES
from kiosk.vision.idcard import CardStatus
from tests.ui.scripted_engine import ScriptedEngine

STAFF_PIN = "2468"
SPOKEN = frozenset({"nb", "nn", "en"})
# Typed as the nurse would, with the letters of each language's keyboard.
PATIENT_NAMES = {
    "nb": "Kåre Ødegård",
    "nn": "Åse Bjørkæs",
    "en": "Kari Nordmann",
    "se": "Ánde Čuđe",
}
CHECK_NAMES = ("camera", "light", "framing", "microphone", "speaker", "network")
_STATUS = {
    "ok": CheckStatus.PASS,
    "confirmed": CheckStatus.PASS,
    "checking": CheckStatus.RUNNING,
    "playing": CheckStatus.RUNNING,
    "say_something": CheckStatus.RUNNING,
    # What the checks report as failed: the screen then shows the clinic's number too.
    "black": CheckStatus.FAIL,
    "unplugged": CheckStatus.FAIL,
    "missing": CheckStatus.FAIL,
    "node_unreachable": CheckStatus.FAIL,
    "host_not_allowed": CheckStatus.FAIL,
}


def check_variants() -> list[CheckSummary]:
    """Summaries that between them put every advice of every check on the screen, all six
    lines at a time (the screen's fullest state)."""
    by_check = {name: [key for key in ADVICE if key.startswith(f"{name}.")] for name in CHECK_NAMES}
    rounds = max(len(keys) for keys in by_check.values())
    summaries = []
    for index in range(rounds):
        lines = []
        for name in CHECK_NAMES:
            key = by_check[name][index % len(by_check[name])]
            status = _STATUS.get(key.split(".", 1)[1], CheckStatus.WARN)
            detail = "faces=3" if key == "framing.people_count" else ""
            lines.append(CheckLine(name, status, key, detail))
        summaries.append(
            CheckSummary(camera_ok=True, microphone_ok=True, speaker_ok=False, lines=tuple(lines))
        )
    # The fullest screen: each check's longest advice, the question about the chime (its
    # button) and a failure (the clinic's number).
    longest = {name: max(keys, key=lambda k: len(ADVICE[k])) for name, keys in by_check.items()}
    longest.update(speaker="speaker.confirm", network="network.node_unreachable")
    worst = tuple(
        CheckLine(name, _STATUS.get(key.split(".", 1)[1], CheckStatus.WARN), key)
        for name, key in longest.items()
    )
    summaries.append(CheckSummary(camera_ok=True, microphone_ok=True, lines=worst))
    return summaries


def scripted_engine(clock: ManualClock) -> ScriptedEngine:
    return ScriptedEngine(
        answer_knocks=False, clock=clock, checks=check_variants()[0], pin=STAFF_PIN
    )


async def walk(
    pilot: Any,
    engine: ScriptedEngine,
    clock: ManualClock,
    language: str,
    large_text: bool,
    pictures: bool = False,
) -> AsyncIterator[str]:
    """Visit every screen and overlay in `language`, with large text on or off; with
    `pictures`, each is yielded once its video pictures are drawn too."""

    async def step(*events: ev.Event, screen: str) -> None:
        for event in events:
            engine.inject(event)
        await pilot.wait_for_screen(screen)

    async def settle() -> None:
        await pilot.settled(pictures=pictures)

    async def begin() -> None:
        await pilot.wait_for_screen("idle")
        if language != engine.state.language:
            engine.inject(ev.SetLanguage(language))
        if large_text != engine.state.large_text:
            engine.inject(ev.ToggleLargeText())
        # Read aloud on: in Northern Sami the screens then say it cannot be done.
        if not engine.state.read_aloud:
            engine.inject(ev.ToggleReadAloud())
        await pilot.wait_for(
            lambda: (pilot.app.language, pilot.app.state.large_text) == (language, large_text),
            what=f"{language} with large text {'on' if large_text else 'off'}",
        )
        await settle()

    await begin()
    yield "idle"

    await step(ev.Tap(), *(ev.Digit(d) for d in "123456"), screen="number")
    await settle()
    yield "number"
    for key in (k for k in NOTICES if k.startswith("qr.")):
        engine.inject(ev.QrRefused(key))
        await settle()
        yield f"number_{key.replace('.', '_')}"

    engine.inject(ev.IdleTimeout())
    await pilot.wait_for(lambda: pilot.app.root.ids.idle_warning.shown, what="idle warning")
    await settle()
    yield "idle_warning"
    engine.inject(ev.StillHere())
    await pilot.wait_for(lambda: not pilot.app.root.ids.idle_warning.shown, what="warning gone")

    await step(ev.SubmitNumber(), screen="checks")
    await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
    await settle()
    yield "checks"
    for index, summary in enumerate(check_variants()):
        engine.inject(ev.ChecksFinished(summary))
        await settle()
        yield f"checks_{index}"

    await step(ev.Continue(), screen="joining")
    await settle()
    yield "joining"
    await step(ev.Knocked(), screen="waiting")
    await settle()
    yield "waiting"
    engine.devices = DeviceNotice(
        camera_unplugged=True,
        microphone_missing=True,
        speaker_missing=True,
        read_aloud_languages=SPOKEN,
    )
    pilot.app._tick(0)  # the app looks at the devices once a second; now, here
    await pilot.wait_for(lambda: pilot.app.notice_text.count("\n") == 2, what="notices")
    await settle()
    yield "waiting_device_notices"

    await step(ev.Admitted(), ev.CallMediaStarted(), screen="in_call")
    await settle()
    yield "in_call_device_notices"
    engine.devices = DeviceNotice(read_aloud_languages=SPOKEN)
    pilot.app._tick(0)
    for quality in ("good", "fair", "poor"):
        engine.quality = quality
        pilot.app._tick(0)
        await pilot.wait_for(lambda q=quality: pilot.app.connection == q, what=quality)
        await settle()
        yield f"in_call_{quality}"
    engine.inject(ev.RecordingChanged(True))
    engine.inject(ev.ToggleMute())
    await settle()
    yield "in_call_recording_muted"
    engine.inject(ev.ToggleShowId())
    for hint in CARD_HINTS:
        engine.card = CardStatus(hint, None, 0.0)
        pilot.app._poll_video(0)
        await pilot.wait_for(lambda h=hint: pilot.app.card_hint == CARD_HINTS[h], what=hint)
        await settle()
        yield f"in_call_{hint.replace('.', '_')}"
    await step(ev.ParticipantLost(), ev.StillTrying(), screen="reconnecting")
    await settle()
    yield "reconnecting_show_id"
    engine.inject(ev.ToggleShowId())
    await settle()
    yield "reconnecting"
    await step(ev.Knocked(), screen="waiting")
    await settle()
    yield "waiting_again"
    await step(ev.Admitted(), ev.HangUp(), screen="ended")
    await settle()
    yield "ended"
    await step(ev.Dismiss(), screen="idle")

    # Staff: the PIN pad, a wrong PIN, the lockout, the nurse's screen, the call it starts.
    await begin()
    await step(ev.StaffGesture(StaffRole.NURSE), ev.Digit("1"), screen="staff_pin")
    await settle()
    yield "staff_pin"
    await step(*(ev.Digit(d) for d in "357"), ev.SubmitPin(), screen="staff_pin")
    await pilot.wait_for(lambda: engine.state.notice == "pin.wrong", what="wrong PIN")
    await settle()
    yield "staff_pin_wrong"
    engine.publish(notice="pin.locked", pin_locked_until=clock.now() + 300)
    await settle()
    yield "staff_pin_locked"
    engine.publish(notice="", pin_locked_until=0.0, pin_failures=0)
    await step(*(ev.Digit(d) for d in STAFF_PIN), ev.SubmitPin(), screen="nurse")
    nurse = pilot.screens_widget("nurse")
    for letter in PATIENT_NAMES.get(language, PATIENT_NAMES["nb"]):
        nurse.type_letter(letter)
    await step(*(ev.Digit(d) for d in "654321"), screen="nurse")
    await settle()
    yield "nurse"
    await step(ev.SubmitNumber(), ev.Continue(), ev.Knocked(), ev.Admitted(), screen="in_call")
    await pilot.wait_for(lambda: pilot.screens_widget("in_call").nurse_may_leave, what="hint")
    pilot.app._tick(0)  # the badge, which the app looks at once a second: now, here
    await settle()
    yield "in_call_nurse_hint"
    await step(ev.HangUp(), ev.Dismiss(), screen="idle")

    await begin()
    await step(ev.StaffGesture(StaffRole.MAINTENANCE), screen="staff_pin")
    await step(*(ev.Digit(d) for d in STAFF_PIN), ev.SubmitPin(), screen="maintenance")
    engine.inject(ev.RerunChecks())
    await pilot.wait_for(lambda: engine.state.checks is not None, what="check results")
    await settle()
    yield "maintenance"
    await step(ev.Dismiss(), screen="idle")

    await begin()
    await step(ev.Tap(), *(ev.Digit(d) for d in "123456"), ev.SubmitNumber(), screen="checks")
    kinds = list(ErrorKind)
    await step(ev.Continue(), ev.JoinFailed(kinds[0]), screen="error")
    for kind in kinds:
        engine.publish(error=kind)
        await settle()
        yield f"error_{kind.value}"
    await step(ev.Dismiss(), screen="idle")


def combinations(languages: tuple[str, ...]) -> list[tuple[str, bool]]:
    return list(itertools.product(languages, (False, True)))
