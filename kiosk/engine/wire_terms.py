"""What the node's answers mean to the kiosk: a failure as the patient is told it, the
token's STUN and TURN servers as the call's ICE configuration."""

from __future__ import annotations

from kiosk.config import KioskConfig
from kiosk.media.ice import IceConfig
from kiosk.pexip import errors as wire_errors
from kiosk.pexip.answers import Token
from kiosk.session.state import ErrorKind


def error_kind(exc: BaseException) -> ErrorKind:
    """The one place where a wire failure becomes what the patient is told."""
    match exc:
        case wire_errors.NoSuchConference():
            return ErrorKind.NOT_FOUND
        case wire_errors.NoSuchNode() | wire_errors.NodeUnreachable() | OSError() | TimeoutError():
            return ErrorKind.UNREACHABLE
        case wire_errors.Maintenance():
            return ErrorKind.MAINTENANCE
        case wire_errors.HostNotAllowed():
            return ErrorKind.HOST_NOT_ALLOWED
        case wire_errors.PinRequired():
            return ErrorKind.PIN_REQUIRED
        case wire_errors.InvalidPin():
            return ErrorKind.INVALID_PIN
        case _:
            return ErrorKind.PROTOCOL


def ice_config(token: Token, config: KioskConfig) -> IceConfig:
    """STUN/TURN from the node's token first, then the terminal's own TURN servers."""
    stun = [s.url for s in token.stun if s.url.startswith("stun:")]
    turn = [(url, t.username, t.credential) for t in token.turn for url in t.urls]
    turn += [(t.url, t.username, t.credential) for t in config.turn_servers]
    turn = [entry for entry in turn if entry[0].startswith(("turn:", "turns:"))]
    relay_only = token.use_relay_candidates_only and bool(turn)
    return IceConfig.from_lists(stun, turn, relay_only=relay_only)
