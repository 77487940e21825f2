"""What the UI may see of the engine and say to it: state snapshots down, intents up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.base.clock import Clock
from kiosk.base.frames import RgbFrame as RgbFrame  # the frames the view hands the UI
from kiosk.config import KioskConfig
from kiosk.session.events import Intent
from kiosk.session.state import SessionState
from kiosk.vision.idcard import CardStatus


@dataclass(frozen=True)
class DeviceNotice:
    """Facts about the devices the patient should be told (not errors: the call still works)."""

    camera_synthetic: bool = False  # no camera found: a generated picture is sent instead
    camera_unplugged: bool = False
    microphone_missing: bool = False  # no microphone found: the clinician cannot hear you
    speaker_missing: bool = False
    # PulseAudio's echo canceller could not be set up: the clinician may hear themselves.
    echo_cancel_missing: bool = False
    # The session languages the kiosk can read aloud in (none without a synthesiser).
    read_aloud_languages: frozenset[str] = frozenset()


class EngineView(Protocol):
    @property
    def config(self) -> KioskConfig: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def state(self) -> SessionState: ...

    @property
    def devices(self) -> DeviceNotice: ...

    def subscribe(self, listener: Callable[[SessionState], None]) -> Callable[[], None]:
        """Call `listener` with every new state (on the engine's loop); returns an unsubscriber."""
        ...

    def send(self, intent: Intent) -> None:
        """Queue an intent from the UI; never blocks."""
        ...

    def self_view_frame(self) -> tuple[int, RgbFrame] | None:
        """The newest camera frame and its sequence number (unchanged number: nothing new)."""
        ...

    def remote_frame(self) -> tuple[int, RgbFrame] | None:
        """The newest decoded frame from the clinician, with its sequence number."""
        ...

    def card_status(self) -> CardStatus | None:
        """While the patient shows an ID card: the guide's one hint (e.g. "card.closer",
        "card.good") and where the card is; None otherwise."""
        ...

    def connection_quality(self) -> str:
        """ "good", "fair" or "poor" for the call's connection badge; "" outside a call."""
        ...
