"""The Pexip Infinity client REST API v2: wire client, typed events, conference presence."""

from kiosk.pexip.answers import CallAnswer, Token
from kiosk.pexip.client import InfinityClient
from kiosk.pexip.conference import Conference
from kiosk.pexip.discovery import resolve_node
from kiosk.pexip.errors import (
    HostNotAllowed,
    InvalidPin,
    InvalidToken,
    Maintenance,
    NodeUnreachable,
    NoSuchConference,
    NoSuchNode,
    PexipError,
    PinRequired,
    ProtocolError,
    UntrustedNode,
)
from kiosk.pexip.events import InfinityEvent, Participant, parse_event
from kiosk.pexip.signals import (
    Admitted,
    CallDropped,
    PeerGone,
    Referred,
    RemoteOffer,
    Removed,
    Signal,
    StreamBack,
    StreamLost,
    TokenLost,
    Waiting,
)

__all__ = [
    "Admitted",
    "CallAnswer",
    "CallDropped",
    "Conference",
    "HostNotAllowed",
    "InfinityClient",
    "InfinityEvent",
    "InvalidPin",
    "InvalidToken",
    "Maintenance",
    "NoSuchConference",
    "NoSuchNode",
    "NodeUnreachable",
    "Participant",
    "PeerGone",
    "PexipError",
    "PinRequired",
    "ProtocolError",
    "Referred",
    "RemoteOffer",
    "Removed",
    "Signal",
    "StreamBack",
    "StreamLost",
    "Token",
    "TokenLost",
    "UntrustedNode",
    "Waiting",
    "parse_event",
    "resolve_node",
]
