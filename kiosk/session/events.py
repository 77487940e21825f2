"""What can happen to a session: the patient's intents and the world's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kiosk.session.state import CheckSummary, ErrorKind, Phase, StaffRole


@dataclass(frozen=True)
class Event:
    pass


# -- intents: what the patient (or nurse) asked for through the UI ---------------------------


@dataclass(frozen=True)
class Intent(Event):
    # Someone touched the screen (or a key): that answers the idle warning.
    by_touch: ClassVar[bool] = True


@dataclass(frozen=True)
class Tap(Intent):
    """A tap on the start screen."""


@dataclass(frozen=True)
class Digit(Intent):
    digit: str

    def __post_init__(self) -> None:
        if len(self.digit) != 1 or not self.digit.isdigit():
            raise ValueError(f"digit must be one character 0-9 (got {self.digit!r})")


@dataclass(frozen=True)
class DeleteDigit(Intent):
    pass


@dataclass(frozen=True)
class NumberScanned(Intent):
    """A QR code gave a number (and perhaps a host already checked against the allow-list)."""

    digits: str
    host: str | None = None

    def __post_init__(self) -> None:
        if len(self.digits) != 6 or not self.digits.isdigit():
            raise ValueError(f"digits must be six digits (got {len(self.digits)} characters)")


@dataclass(frozen=True)
class SubmitNumber(Intent):
    pass


@dataclass(frozen=True)
class Continue(Intent):
    """Go on from the checks screen and knock."""


@dataclass(frozen=True)
class HeardChime(Intent):
    """The patient says the test sound was heard (where the kiosk cannot hear itself)."""


@dataclass(frozen=True)
class RerunChecks(Intent):
    pass


@dataclass(frozen=True)
class Cancel(Intent):
    """Back to the start screen; the session is forgotten."""


@dataclass(frozen=True)
class HangUp(Intent):
    """The yellow button."""


@dataclass(frozen=True)
class KnockAgain(Intent):
    pass


@dataclass(frozen=True)
class TryAnotherNumber(Intent):
    pass


@dataclass(frozen=True)
class Dismiss(Intent):
    """Leave the ended or error screen for the start screen."""


@dataclass(frozen=True)
class ToggleShowId(Intent):
    pass


@dataclass(frozen=True)
class ToggleMute(Intent):
    pass


@dataclass(frozen=True)
class ChangeVolume(Intent):
    step: float


@dataclass(frozen=True)
class SetLanguage(Intent):
    language: str


@dataclass(frozen=True)
class StillHere(Intent):
    """ "Jeg er her": the answer to the idle warning."""


@dataclass(frozen=True)
class ToggleLargeText(Intent):
    pass


@dataclass(frozen=True)
class ToggleLoud(Intent):
    pass


@dataclass(frozen=True)
class ToggleReadAloud(Intent):
    """The "read aloud" choice on the start screen (and beside the other settings)."""


MAX_SPOKEN_CHARS = 2000


@dataclass(frozen=True)
class ReadAloud(Intent):
    """The screen asks for its instruction (or a check's advice) to be spoken, in the
    session's language; the session says whether it is. With `queue`, after what is being
    said; otherwise instead of it. Sent by the screen itself, not by a touch."""

    by_touch: ClassVar[bool] = False
    text: str
    queue: bool = False

    def __post_init__(self) -> None:
        if len(self.text) > MAX_SPOKEN_CHARS:
            raise ValueError(
                f"text to read aloud must be at most {MAX_SPOKEN_CHARS} characters "
                f"(got {len(self.text)})"
            )


@dataclass(frozen=True)
class StaffGesture(Intent):
    """The discreet corner gesture: opens the PIN pad for a nurse or for IT."""

    role: StaffRole


@dataclass(frozen=True)
class SubmitPin(Intent):
    pass


@dataclass(frozen=True)
class SetDisplayName(Intent):
    """Typed by the nurse for the patient."""

    name: str = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.name) > 60:
            raise ValueError(f"display name must be at most 60 characters (got {len(self.name)})")


@dataclass(frozen=True)
class StartTestCall(Intent):
    """From the maintenance screen: knock on the configured test room."""

    alias: str

    def __post_init__(self) -> None:
        if len(self.alias) != 6 or not self.alias.isdigit():
            raise ValueError(f"the test room must be six digits (got {len(self.alias)} characters)")


# -- events: what the engine saw happen ------------------------------------------------------


@dataclass(frozen=True)
class ChecksFinished(Event):
    summary: CheckSummary


@dataclass(frozen=True)
class Knocked(Event):
    """The node gave us a token and we are in its waiting room."""


@dataclass(frozen=True)
class Admitted(Event):
    """Our participant moved from the waiting room into the conference."""


@dataclass(frozen=True)
class CallMediaStarted(Event):
    """The first remote video frame of this call arrived."""


@dataclass(frozen=True)
class JoinFailed(Event):
    kind: ErrorKind


@dataclass(frozen=True)
class RemovedByServer(Event):
    """The node removed our participant (`disconnect` event, or deleted from the roster).

    In a call, the clinician ended it. In the waiting room it is the waiting-for-host timeout
    (a new knock may follow), unless `deliberate`: someone removed the patient on purpose.
    """

    reason: str = ""
    deliberate: bool = False


@dataclass(frozen=True)
class ParticipantLost(Event):
    """The node no longer knows our token or participant (e.g. it restarted)."""

    reason: str = ""


@dataclass(frozen=True)
class MediaLost(Event):
    """No media arrives (or a rebuild of the call did not get through)."""


@dataclass(frozen=True)
class MediaRestored(Event):
    pass


@dataclass(frozen=True)
class RecordingChanged(Event):
    recording: bool


@dataclass(frozen=True)
class PinChecked(Event):
    ok: bool


@dataclass(frozen=True)
class QrRefused(Event):
    """A QR code was read but not accepted; `reason` is a message key, never its content."""

    reason: str


@dataclass(frozen=True)
class Timer(Event):
    """A timer the session started (`StartTimer`) ran out. Each kind is its own event, so the
    table says what each one does in each phase. `phase` is the phase that started it: the
    engine drops a timer that fired just as its phase ended."""

    phase: Phase | None = None


@dataclass(frozen=True)
class IdleTimeout(Timer):
    """No touch for `number_idle_s`: ask whether the patient is still there."""


@dataclass(frozen=True)
class IdleFinal(Timer):
    """Nobody answered the idle warning: forget the session."""


@dataclass(frozen=True)
class LobbyTimeout(Timer):
    """The kiosk's own limit on waiting to be let in (the node's usually comes first)."""


@dataclass(frozen=True)
class ReturnTimeout(Timer):
    """The ended or error screen goes back to the start by itself."""


@dataclass(frozen=True)
class StillTrying(Timer):
    """Reconnecting for a while: say that the kiosk is still trying."""


@dataclass(frozen=True)
class GiveUp(Timer):
    """Reconnecting did not succeed in time: stop and say so."""


@dataclass(frozen=True)
class RetryDue(Timer):
    """The wait before the next reconnect attempt is over."""


@dataclass(frozen=True)
class Wiped(Event):
    pass
