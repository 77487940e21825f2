"""The reconnect policy: what the kiosk does by itself when something breaks, in one table.

aiortc has no ICE restart and notices a dead link only after 24–36 s, so the kiosk watches
its inbound media itself and rebuilds the call; the other troubles each have their own
remedy. The session machine applies these rules; the engine carries out what they command.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Trouble(enum.Enum):
    MEDIA_OUTAGE = "media_outage"  # no inbound media for a couple of seconds in a call
    ATTEMPT_FAILED = "attempt_failed"  # a rebuild or re-knock did not get through
    PARTICIPANT_LOST = "participant_lost"  # the node no longer knows our token/participant
    LOBBY_TIMEOUT = "lobby_timeout"  # the node's waiting-for-host limit removed us
    STREAM_DROP = "stream_drop"  # the event stream broke


class Remedy(enum.Enum):
    REBUILD_CALL = "rebuild_call"  # new peer connection, new offer, same token: stays admitted
    RETRY_AFTER_BACKOFF = "retry_after_backoff"
    KNOCK_AGAIN = "knock_again"  # new token: the patient waits to be let in again
    RESUBSCRIBE = "resubscribe"  # reopen the stream with the same token and re-sync the roster
    GIVE_UP = "give_up"  # tell the patient, show the clinic's number, offer the start screen


RULES: dict[Trouble, Remedy] = {
    Trouble.MEDIA_OUTAGE: Remedy.REBUILD_CALL,
    Trouble.ATTEMPT_FAILED: Remedy.RETRY_AFTER_BACKOFF,
    Trouble.PARTICIPANT_LOST: Remedy.KNOCK_AGAIN,
    Trouble.LOBBY_TIMEOUT: Remedy.KNOCK_AGAIN,
    # The wire client does this one itself (kiosk.pexip.conference); the session only hears
    # about it if the token turns out to be gone, which is PARTICIPANT_LOST.
    Trouble.STREAM_DROP: Remedy.RESUBSCRIBE,
}


@dataclass(frozen=True)
class ReconnectPolicy:
    # Waits before successive attempts; the last one repeats. Half a second for the first six
    # seconds: a blink of the network is the common case, an attempt while the link is down
    # fails at once and costs little, and every second of waiting after the link is back is a
    # second of frozen picture. Then slower, so a long outage does not hammer the node.
    backoff_s: tuple[float, ...] = (0.5,) * 12 + (1.0,) * 6 + (2.0, 3.0)
    still_trying_s: float = 30.0  # "Vi prøver fortsatt"
    give_up_s: float = 120.0  # then the clinic's number and the way back to start
    lobby_auto_knocks: int = 2  # knock again by itself this many times after a lobby timeout

    def __post_init__(self) -> None:
        if not self.backoff_s or any(b < 0 for b in self.backoff_s):
            raise ValueError(f"backoff_s must be non-negative waits (got {self.backoff_s})")
        if not 0 < self.still_trying_s < self.give_up_s:
            raise ValueError(
                "still_trying_s must be positive and below give_up_s "
                f"(got {self.still_trying_s}, {self.give_up_s})"
            )
        if self.lobby_auto_knocks < 0:
            raise ValueError(f"lobby_auto_knocks must be >= 0 (got {self.lobby_auto_knocks})")

    def remedy(self, trouble: Trouble, attempts: int = 0, lobby_knocks: int = 0) -> Remedy:
        """What to do about `trouble`, given how often the kiosk already knocked again after a
        lobby timeout in this session."""
        if trouble is Trouble.LOBBY_TIMEOUT and lobby_knocks >= self.lobby_auto_knocks:
            return Remedy.GIVE_UP
        return RULES[trouble]

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first retry)."""
        return self.backoff_s[min(max(attempt, 1), len(self.backoff_s)) - 1]
