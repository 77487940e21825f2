"""What the machine asks the engine to do. Plain values; the engine carries them out."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.session.events import Timer


@dataclass(frozen=True)
class Command:
    pass


@dataclass(frozen=True)
class RunChecks(Command):
    """Start the device checks; the engine answers with `ChecksFinished`."""


@dataclass(frozen=True)
class StopChecks(Command):
    pass


@dataclass(frozen=True)
class Knock(Command):
    """Ask for a place in the conference and set up the call; answered by `Knocked` or
    `JoinFailed`."""

    alias: str
    display_name: str
    host: str | None = None


@dataclass(frozen=True)
class RebuildCall(Command):
    """Tear the media down and set it up again with the same participant."""


@dataclass(frozen=True)
class EndCall(Command):
    """Hang up the media, release the token, close the event stream."""


@dataclass(frozen=True)
class Wipe(Command):
    """Forget everything about the session; answered by `Wiped`."""


@dataclass(frozen=True)
class CheckPin(Command):
    """Check a staff PIN against the configured salted hash (off the loop: it is slow on
    purpose); answered by `PinChecked`."""

    role: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class StartTimer(Command):
    """Post a `timer()` event after `seconds`, replacing a pending one of its kind. A timer
    lives only in the phase that started it: the engine drops every pending timer when the
    phase changes."""

    timer: type[Timer]
    seconds: float


@dataclass(frozen=True)
class SetVolume(Command):
    volume: float


@dataclass(frozen=True)
class SetMute(Command):
    muted: bool


@dataclass(frozen=True)
class Speak(Command):
    """Say `text` through the speaker in `language`'s voice, instead of what is being said
    or, with `queue`, after it."""

    text: str
    language: str
    queue: bool = False


@dataclass(frozen=True)
class StopSpeaking(Command):
    """Silence: a call begins, the patient turned reading aloud off, the session ends."""
