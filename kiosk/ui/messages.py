"""Which message the patient sees for a state: error kinds, check lines, device notices.

Pure functions over session values; they return message ids, translated where shown.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.engine.view import DeviceNotice
from kiosk.session.state import CheckLine, CheckStatus, CheckSummary, ErrorKind
from kiosk.ui.i18n import N_


class Action(enum.Enum):
    """Buttons an error screen may offer; the KV file shows the ones listed for the kind."""

    KNOCK_AGAIN = "knock_again"
    ANOTHER_NUMBER = "another_number"
    TO_START = "to_start"


@dataclass(frozen=True)
class ErrorText:
    title: str
    body: str
    actions: tuple[Action, ...]


_RETRY = (Action.KNOCK_AGAIN, Action.TO_START)
_NUMBER = (Action.ANOTHER_NUMBER, Action.TO_START)

ERRORS: dict[ErrorKind, ErrorText] = {
    ErrorKind.NOT_FOUND: ErrorText(
        N_("We could not find that number."),
        N_("Check the six digits in the text message and try again."),
        _NUMBER,
    ),
    ErrorKind.UNREACHABLE: ErrorText(
        N_("We cannot reach the video service right now."),
        N_("The kiosk keeps its network connection. Wait a moment, then knock again."),
        _RETRY,
    ),
    ErrorKind.MAINTENANCE: ErrorText(
        N_("The video service is being maintained."),
        N_("It is usually back within a few minutes. Wait a moment, then knock again."),
        _RETRY,
    ),
    ErrorKind.HOST_NOT_ALLOWED: ErrorText(
        N_("This code cannot be used here."),
        N_("The kiosk only joins the clinic's own video service. Type the six digits instead."),
        _NUMBER,
    ),
    ErrorKind.PIN_REQUIRED: ErrorText(
        N_("This consultation needs a PIN code."),
        N_("The kiosk cannot join it alone. Call the clinic, and they will help you."),
        _NUMBER,
    ),
    ErrorKind.INVALID_PIN: ErrorText(
        N_("The PIN code was not accepted."),
        N_("Call the clinic, and they will help you."),
        _NUMBER,
    ),
    ErrorKind.LOBBY_TIMEOUT: ErrorText(
        N_("You waited a long time, so the call was closed."),
        N_("Your clinician may be delayed. Knock again, and you will wait for them again."),
        _RETRY,
    ),
    ErrorKind.CONNECTION_LOST: ErrorText(
        N_("The connection was lost."),
        N_("The kiosk tried to connect again for two minutes. Knock again to try once more."),
        _RETRY,
    ),
    ErrorKind.PROTOCOL: ErrorText(
        N_("Something went wrong with the video service."),
        N_("It is not your fault. Knock again to try once more."),
        _RETRY,
    ),
}

ACTION_LABELS: dict[Action, str] = {
    Action.KNOCK_AGAIN: N_("Knock again"),
    Action.ANOTHER_NUMBER: N_("Type another number"),
    Action.TO_START: N_("Back to start"),
}

CHECK_NAMES: dict[str, str] = {
    "camera": N_("Camera"),
    "light": N_("Light"),
    "framing": N_("Picture"),
    "microphone": N_("Microphone"),
    "speaker": N_("Sound"),
    "network": N_("Network"),
}

ADVICE: dict[str, str] = {
    "camera.checking": N_("Checking the camera."),
    "camera.ok": N_("The camera works."),
    "camera.black": N_("The picture is black. Is something covering the camera?"),
    "camera.frozen": N_("The picture stands still. Staff can help you."),
    "camera.slow": N_("The picture is slow, but it works."),
    "camera.synthetic": N_("The camera is not available. The clinician sees a picture instead."),
    "camera.unplugged": N_("The camera is unplugged. Staff can help you."),
    "light.checking": N_("Checking the light."),
    "light.ok": N_("The light is good."),
    "light.too_dark": N_("It is too dark. Turn on a light."),
    "light.too_bright": N_("It is too bright. Move away from strong light."),
    "light.backlit": N_("Do not sit with the window behind you."),
    "light.uneven": N_("Your face is lit on one side only."),
    "framing.checking": N_("Looking for your face."),
    "framing.ok": N_("You are well placed."),
    "framing.no_face": N_("We cannot see your face. Sit in front of the screen."),
    "framing.center": N_("Move a little so your face is in the middle."),
    "framing.move_back": N_("Move a little further back."),
    "framing.move_closer": N_("Move a little closer."),
    "framing.people_count": N_("Everyone taking part should be in the picture."),
    "microphone.checking": N_("Checking the microphone."),
    "microphone.ok": N_("The microphone works."),
    "microphone.silent": N_("We cannot hear the microphone. The clinician may not hear you."),
    "microphone.say_something": N_("Say a few words, and we will check the microphone."),
    "microphone.clipping": N_("The sound is too loud. Sit a little further from the screen."),
    "microphone.noisy": N_("It is noisy around you. Close the door if you can."),
    "microphone.missing": N_("There is no microphone. Staff can help you."),
    "speaker.checking": N_("Listen for a sound."),
    "speaker.playing": N_("Listen: the kiosk plays a sound now."),
    "speaker.ok": N_("The sound works."),
    "speaker.confirm": N_("Did you hear the sound? Then tap \u201cI heard the sound\u201d."),
    "speaker.confirmed": N_("You heard the sound."),
    "speaker.missing": N_("There is no sound. Staff can help you."),
    "network.checking": N_("Checking the network."),
    "network.ok": N_("The network is good."),
    "network.slow": N_("The network is slow. The picture may be poorer."),
    "network.poor": N_("The network is poor. The call may stop now and then."),
    "network.node_unreachable": N_("We cannot reach the video service. Staff can help you."),
    "network.host_not_allowed": N_(
        "The video service is not set up on this kiosk. Staff can help."
    ),
    "network.turn_unreachable": N_("Part of the network is closed. The call may still work."),
}

# With the number of faces the check counted (from the line's detail "faces=<n>").
PEOPLE_COUNT_N = N_("We see {count} people. Everyone taking part should be in the picture.")

STATUS_FALLBACK: dict[CheckStatus, str] = {
    CheckStatus.RUNNING: N_("Checking."),
    CheckStatus.PASS: N_("Works."),
    CheckStatus.WARN: N_("Works, but could be better."),
    CheckStatus.FAIL: N_("Does not work. Staff can help you."),
}


@dataclass(frozen=True)
class ShownLine:
    name: str  # message id of the check's name
    advice: str  # message id of the sentence
    status: CheckStatus
    values: tuple[tuple[str, str], ...] = ()  # placeholders in the sentence


def check_lines(summary: CheckSummary | None) -> tuple[ShownLine, ...]:
    """The lines of the check screen; while no result has come, one line per check that runs."""
    if summary is None:
        return tuple(
            ShownLine(CHECK_NAMES[name], ADVICE[f"{name}.checking"], CheckStatus.RUNNING)
            for name in ("camera", "microphone", "speaker")
        )
    if summary.lines:
        return tuple(_shown(line) for line in summary.lines)
    camera = (
        ("camera.synthetic", CheckStatus.WARN)
        if summary.camera_synthetic
        else ("camera.ok", CheckStatus.PASS)
        if summary.camera_ok
        else ("camera.black", CheckStatus.FAIL)
    )
    microphone = (
        ("microphone.ok", CheckStatus.PASS)
        if summary.microphone_ok and not summary.microphone_unheard
        else ("microphone.silent", CheckStatus.WARN)
    )
    speaker = (
        ("speaker.ok", CheckStatus.PASS)
        if summary.speaker_ok
        else ("speaker.missing", CheckStatus.WARN)
    )
    return tuple(
        ShownLine(CHECK_NAMES[key.split(".")[0]], ADVICE[key], status)
        for key, status in (camera, microphone, speaker)
    )


def _shown(line: CheckLine) -> ShownLine:
    name = CHECK_NAMES.get(line.name, line.name)
    if line.advice == "framing.people_count":
        count = detail_figure(line.detail, "faces")
        if count is not None and count >= 2:
            return ShownLine(name, PEOPLE_COUNT_N, line.status, (("count", str(count)),))
    return ShownLine(name, ADVICE.get(line.advice, STATUS_FALLBACK[line.status]), line.status)


def detail_figure(detail: str, key: str) -> int | None:
    """A whole number from a check line's detail ("faces=2 light=0.4"), None if absent."""
    for part in detail.split():
        name, _, value = part.partition("=")
        if name == key:
            try:
                return int(float(value))
            except ValueError:
                return None
    return None


def any_failed(summary: CheckSummary | None) -> bool:
    return summary is not None and any(line.status is CheckStatus.FAIL for line in summary.lines)


NOTICE_CAMERA_SYNTHETIC = N_(
    "The camera is not available. The clinician sees a picture instead of you."
)
NOTICE_CAMERA_UNPLUGGED = N_("The camera was unplugged. The kiosk is trying to find it again.")
NOTICE_MICROPHONE_SILENT = N_("We cannot hear the microphone. The clinician may not hear you.")
NOTICE_SPEAKER_MISSING = N_("There is no loudspeaker. You may not hear the clinician.")


def device_notices(devices: DeviceNotice) -> tuple[str, ...]:
    notices: list[str] = []
    if devices.camera_unplugged:
        notices.append(NOTICE_CAMERA_UNPLUGGED)
    elif devices.camera_synthetic:
        notices.append(NOTICE_CAMERA_SYNTHETIC)
    if devices.microphone_missing:
        notices.append(NOTICE_MICROPHONE_SILENT)
    if devices.speaker_missing:
        notices.append(NOTICE_SPEAKER_MISSING)
    return tuple(notices)


def format_elapsed(seconds: float) -> str:
    """mm:ss, counting up past an hour as minutes (a wait that long is rare and still readable)."""
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


# state.notice keys: something refused, said on the screen where it happened.
NOTICES: dict[str, str] = {
    "qr.host_not_allowed": N_(
        "This QR code is not from the clinic. Type the number from the text message."
    ),
    "qr.bad_link": N_("We found no number in this QR code. Type the number from the text message."),
    "qr.not_https": N_("This QR code is not a safe link. Type the number from the text message."),
    "qr.not_text": N_("This QR code is not an invitation. Type the number from the text message."),
    "qr.too_long": N_("This QR code is not an invitation. Type the number from the text message."),
    "pin.wrong": N_("Wrong PIN."),
    "pin.locked": N_("Too many wrong PINs. The PIN pad is locked."),
}
QR_FALLBACK = N_("This QR code cannot be used. Type the number from the text message.")
QR_HINT = N_("You can also hold the QR code from the invitation up to the camera.")
PIN_WAIT = N_("Try again in {seconds} s.")


def notice_message(key: str) -> str:
    """The sentence for a state.notice key; "" for no notice."""
    if not key:
        return ""
    if key in NOTICES:
        return NOTICES[key]
    return QR_FALLBACK if key.startswith("qr.") else ""


# The ID-card guide says one thing at a time (engine.card_status().hint).
CARD_HINTS: dict[str, str] = {
    "card.none": N_("Hold your ID card up to the camera."),
    "card.closer": N_("Hold the card a little closer."),
    "card.further": N_("Hold the card a little further away."),
    "card.inside_frame": N_("Keep the whole card inside the frame."),
    "card.straighten": N_("Hold the card straight."),
    "card.glare": N_("Tilt the card a little, it reflects the light."),
    "card.hold_still": N_("Hold the card still."),
    "card.ok": N_("Good. Keep holding the card there."),
    "card.good": N_("Hold the card still \u2013 the clinician can see it now."),
}
CARD_START = N_("Hold your ID card inside the yellow frame.")


def card_hint(hint: str | None) -> str:
    return CARD_HINTS.get(hint or "", CARD_START)


CONNECTION: dict[str, str] = {
    "good": N_("Good connection"),
    "fair": N_("Fair connection"),
    "poor": N_("Poor connection"),
}
