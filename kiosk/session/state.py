"""What the session is: phases, error kinds and the immutable state snapshot."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from kiosk.base.status import CheckStatus as CheckStatus  # the session speaks the one vocabulary
from kiosk.session.reconnect import ReconnectPolicy


class Phase(enum.Enum):
    IDLE = "idle"  # start screen: "Trykk for å starte"
    NUMBER = "number"  # number pad for the six digits
    CHECKS = "checks"  # camera, light and sound
    JOINING = "joining"  # asking the conference node for a place
    WAITING = "waiting"  # knocked; the clinician has not let us in yet
    IN_CALL = "in_call"
    RECONNECTING = "reconnecting"  # media lost during the call; rebuilding it
    ENDED = "ended"  # "Takk for samtalen"; returns to start by itself
    ERROR = "error"  # something went wrong; says what and what to do next
    WIPING = "wiping"  # forgetting the session before the next patient
    STAFF_PIN = "staff_pin"  # a nurse or IT opened the PIN pad with the corner gesture
    NURSE = "nurse"  # the nurse fills in the number, name and settings for a patient
    MAINTENANCE = "maintenance"  # device status, versions, test call


class StaffRole(enum.Enum):
    NURSE = "nurse"
    MAINTENANCE = "maintenance"


class ErrorKind(enum.Enum):
    NOT_FOUND = "not_found"  # no conference with that number
    UNREACHABLE = "unreachable"  # the node does not answer
    MAINTENANCE = "maintenance"  # the node answers 503
    HOST_NOT_ALLOWED = "host_not_allowed"  # not on the configured allow-list
    PIN_REQUIRED = "pin_required"  # the room wants a guest PIN
    INVALID_PIN = "invalid_pin"
    LOBBY_TIMEOUT = "lobby_timeout"  # waited too long for the clinician
    CONNECTION_LOST = "connection_lost"  # reconnecting gave up
    PROTOCOL = "protocol"  # the node said something we could not understand


@dataclass(frozen=True)
class CheckLine:
    """One line of the check screen: which check, how it went, and what to tell the patient.

    `advice` is a message key (e.g. "light.too_dark") the UI turns into a sentence in the
    patient's language; `detail` holds measured values for the maintenance screen and logs.
    """

    name: str  # "camera", "light", "framing", "microphone", "speaker", "network"
    status: CheckStatus
    advice: str = ""
    detail: str = ""


@dataclass(frozen=True)
class CheckSummary:
    """The outcome of the device checks, as the session needs it (details live in checks/)."""

    camera_ok: bool
    microphone_ok: bool
    speaker_ok: bool = True
    camera_synthetic: bool = False
    microphone_unheard: bool = False  # the check heard nothing from the patient
    lines: tuple[CheckLine, ...] = ()
    # False while checks still run; the screen keeps re-running them as the patient fixes things.
    complete: bool = True


@dataclass(frozen=True)
class Timing:
    """Limits the session works to, from the configuration."""

    number_idle_s: float = 90.0
    ended_return_s: float = 15.0
    error_return_s: float = 120.0
    # The kiosk's own backstop; the node's waiting-for-host timeout normally comes first.
    lobby_limit_s: float = 960.0
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    # After `number_idle_s` without a touch the screen asks "Er du der fortsatt?" and counts
    # down this long before it forgets the session (WCAG 2.2.1: time to say "still here").
    idle_warning_s: float = 30.0
    # Staff PIN: wrong PINs lock the pad for pin_lockout_s after pin_max_failures, and each
    # wrong PIN before that makes the next try wait longer.
    pin_max_failures: int = 5
    pin_lockout_s: float = 300.0


@dataclass(frozen=True)
class SessionState:
    phase: Phase = Phase.IDLE
    phase_since: float = 0.0
    # Count of sessions since the kiosk started; the UI resets everything when it changes.
    session_number: int = 0
    digits: str = ""
    host: str | None = None  # None: the configured conference node
    display_name: str = ""
    language: str = "nb"
    checks: CheckSummary | None = None
    # The patient said they heard the test chime: that outranks what the microphone heard,
    # in this summary and every later one of this round of checks.
    speaker_heard: bool = False
    error: ErrorKind | None = None
    knocks: int = 0
    lobby_knocks: int = 0  # knocks made by the kiosk itself after a lobby timeout
    call_started_at: float | None = None
    # While reconnecting: True when the participant itself was lost and the kiosk knocks
    # again (the clinician lets the patient in again); False when only the call is rebuilt.
    rejoining: bool = False
    reconnect_attempts: int = 0
    remote_media: bool = False
    still_trying: bool = False
    show_id: bool = False
    muted: bool = False
    volume: float = 0.8
    recording: bool = False
    # Still on screen, seconds left shown: "Er du der fortsatt?" with "Jeg er her".
    idle_warning: bool = False
    # A short message for the patient about something refused (e.g. "qr.host_not_allowed").
    notice: str = ""
    # Accessibility, chosen per session (or by the nurse); reset by the wipe.
    large_text: bool = False
    loud: bool = False
    # Reading aloud: each screen's instruction and the checks' advice spoken, never in a call.
    read_aloud: bool = False
    # What read_aloud goes back to for the next patient (the terminal's configuration).
    read_aloud_default: bool = False
    # Set when a nurse started the session: after admission the nurse may leave the room.
    assisted: bool = False
    # The staff PIN pad. Failures and lockout outlive the wipe: abandoning a session must not
    # reset them. Neither the PIN nor its digits ever leave this pad except to be checked.
    staff_role: StaffRole | None = None
    pin_digits: str = field(default="", repr=False)
    pin_checking: bool = False
    pin_failures: int = 0
    pin_locked_until: float = 0.0
    timing: Timing = field(default_factory=Timing)

    @property
    def number_complete(self) -> bool:
        return len(self.digits) == 6
