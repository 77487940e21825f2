"""How hard the kiosk tries by itself when something breaks: the waits and limits.

What it does about each trouble is in the transition table (`session.machine`): a media
outage rebuilds the call with the same participant (the patient stays admitted), a failed
attempt waits `backoff` and tries again, a lost participant knocks again, the node's lobby
timeout knocks again up to `lobby_auto_knocks` times, and reconnecting stops at `give_up_s`.
A dropped event stream is the wire client's to reopen (kiosk.pexip.conference); the session
only hears of it if the participant turns out to be gone.
"""

from __future__ import annotations

from dataclasses import dataclass


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

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1 for the first retry)."""
        return self.backoff_s[min(max(attempt, 1), len(self.backoff_s)) - 1]
