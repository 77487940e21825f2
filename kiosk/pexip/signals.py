"""What a conference tells the kiosk: a few domain signals instead of the wire's events
(`conference.Conference` makes them).

    Waiting -> Admitted -> Removed(reason)        the usual life
    StreamLost -> StreamBack                      the event stream dropped and came back
    TokenLost(reason)                             the node no longer knows our token
    RemoteOffer(sdp)                              direct media: answer it, then `ack(answer)`
    RemoteCandidate(candidate, mid)               a trickled ICE candidate of the far end
    PeerGone                                      direct media: the far end left; its new
                                                  offer (a RemoteOffer) follows
    CallDropped(reason)                           the node hung up our call; the token stays
    Referred(alias, token)                        join `alias` anew with the one-time token

Removed, TokenLost and Referred are final: the signal stream ends after them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Signal:
    pass


@dataclass(frozen=True)
class Waiting(Signal):
    """In the waiting room of a locked conference, or waiting for a host."""


@dataclass(frozen=True)
class Admitted(Signal):
    """Our participant is in the conference proper."""


@dataclass(frozen=True)
class Removed(Signal):
    """The node removed our participant (a disconnect event, or deleted from the roster)."""

    reason: str = ""


@dataclass(frozen=True)
class TokenLost(Signal):
    """The token could not be refreshed before it expired, or the node refused it."""

    reason: str = ""


@dataclass(frozen=True)
class StreamLost(Signal):
    """The event stream dropped; reconnecting in the background."""


@dataclass(frozen=True)
class StreamBack(Signal):
    """The event stream is back and the roster was rebuilt."""


@dataclass(frozen=True)
class RemoteOffer(Signal):
    """Direct media: the far end's offer (SSE `new_offer` or `update_sdp`). Answer it with
    `Conference.ack(answer_sdp)` on the call placed earlier."""

    sdp: str = field(repr=False)


@dataclass(frozen=True)
class RemoteCandidate(Signal):
    """A trickled ICE candidate of the far end (SSE `new_candidate`): all three official
    clients add these to their peer connection (Android WebRtcMediaConnection, Swift
    Conference, PexRTC). End-of-candidates markers (an empty candidate) are not passed on."""

    candidate: str
    mid: str


@dataclass(frozen=True)
class PeerGone(Signal):
    """Direct media: the far end's peer connection went away (`peer_disconnect`); it
    restarts signalling with a new offer (Android MediaConnectionSignalingImpl)."""


@dataclass(frozen=True)
class CallDropped(Signal):
    """The node dropped our call (`call_disconnected`); the participant and token remain,
    so a new `place_call` rebuilds media without a new knock."""

    reason: str = ""


@dataclass(frozen=True)
class Referred(Signal):
    """The node moves us to another conference: leave this one, then `join` a new
    Conference on `alias` with `one_time_token=token`."""

    alias: str = field(repr=False)
    token: str = field(repr=False)


FINAL_SIGNALS = (Removed, TokenLost, Referred)
