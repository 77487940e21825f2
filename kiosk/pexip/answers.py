"""The node's answers as the kiosk keeps them: every field type-checked and bounded, named
in errors but never quoted (a value may be a token or come from a hostile node)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kiosk.pexip.errors import ProtocolError
from kiosk.pexip.sdp import checked_sdp

_MAX_FIELD_CHARS = 16 * 1024
_MAX_ICE_SERVERS = 32
_MAX_SDP_CHARS = 1024 * 1024  # the body cap bounds it anyway; checked_sdp is stricter


@dataclass(frozen=True)
class StunServer:
    url: str


@dataclass(frozen=True)
class TurnServer:
    urls: tuple[str, ...]
    username: str = ""
    credential: str = field(default="", repr=False)


@dataclass(frozen=True)
class Token:
    token: str = field(repr=False)
    expires: float
    participant_uuid: str
    role: str = ""  # "HOST" or "GUEST"
    display_name: str = field(default="", repr=False)
    service_type: str = ""
    current_service_type: str = ""
    direct_media: bool = False
    stun: tuple[StunServer, ...] = ()
    turn: tuple[TurnServer, ...] = ()
    use_relay_candidates_only: bool = False

    @property
    def is_host(self) -> bool:
        return self.role == "HOST"


@dataclass(frozen=True)
class CallAnswer:
    """`sdp` is empty when the node will not answer here (direct media: the far end's offer
    comes later as an event)."""

    call_uuid: str
    sdp: str = field(repr=False)
    offer_ignored: bool = False


def _expires(value: Any) -> float:
    """`expires` comes as a string of seconds ("120"), sometimes as a number."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ProtocolError(f"token expires must be seconds (got {type(value).__name__})")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"token expires must be seconds (got {type(value).__name__})") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ProtocolError("token expires must be a positive number of seconds")
    return seconds


def _text(
    d: dict[str, Any], key: str, required: bool = False, limit: int = _MAX_FIELD_CHARS
) -> str:
    value = d.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise ProtocolError(f"{key} must be a non-empty string (got {type(value).__name__})")
    if len(value) > limit:
        raise ProtocolError(f"{key} is longer than {limit} characters")
    return value


def _string_list(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProtocolError(f"{what} must be a string or a list of strings")
    return value


def _object_list(result: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = result.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ProtocolError(f"{key} must be a list of objects (got {type(value).__name__})")
    if len(value) > _MAX_ICE_SERVERS:
        raise ProtocolError(f"{key} lists more than {_MAX_ICE_SERVERS} servers")
    return value


def update_answer(result: Any) -> str:
    """The answer in an `update` result, unchecked: a bare SDP string (transcoded), an object
    with `sdp` (direct media), or "" when it says `offer_ignored` (Android SDK's
    UpdateResponseSerializer; wire example update_response_direct_media_offer_ignored)."""
    if isinstance(result, str):
        return result
    if isinstance(result, dict):
        if result.get("offer_ignored") is True:
            return ""
        if isinstance(result.get("sdp"), str) and result["sdp"]:
            return str(result["sdp"])
    raise ProtocolError("update result must be an SDP string or say offer_ignored")


def _ice_servers(result: dict[str, Any]) -> tuple[tuple[StunServer, ...], tuple[TurnServer, ...]]:
    stun = tuple(
        StunServer(_text(item, "url", required=True)) for item in _object_list(result, "stun")
    )
    turn = tuple(
        TurnServer(
            tuple(_string_list(item.get("urls"), "turn urls")),
            _text(item, "username"),
            _text(item, "credential"),
        )
        for item in _object_list(result, "turn")
    )
    return stun, turn


def _flag(result: dict[str, Any], key: str) -> bool:
    value = result.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ProtocolError(f"{key} must be true or false (got {type(value).__name__})")
    return value


def parse_token(result: Any) -> Token:
    """Read a request_token result; ProtocolError names the first field that is wrong."""
    if not isinstance(result, dict):
        raise ProtocolError(f"request_token result must be an object (got {type(result).__name__})")
    stun, turn = _ice_servers(result)
    service_type = _text(result, "service_type")
    current = _text(result, "current_service_type") or service_type
    return Token(
        token=_text(result, "token", required=True),
        expires=_expires(result.get("expires")),
        participant_uuid=_text(result, "participant_uuid", required=True),
        role=_text(result, "role"),
        display_name=_text(result, "display_name"),
        service_type=service_type or current,
        current_service_type=current,
        direct_media=_flag(result, "direct_media"),
        stun=stun,
        turn=turn,
        use_relay_candidates_only=_flag(result, "use_relay_candidates_only"),
    )


def calls_answer(result: Any) -> CallAnswer:
    """The answer to `calls`: the call's uuid and the node's SDP, or `offer_ignored` (direct
    media: the far end's offer follows as an event)."""
    if not isinstance(result, dict):
        raise ProtocolError("calls result must be an object")
    call_uuid = _text(result, "call_uuid", required=True)
    ignored = _flag(result, "offer_ignored")
    answer = "" if ignored else _text(result, "sdp", limit=_MAX_SDP_CHARS)
    return CallAnswer(call_uuid, checked_sdp(answer) if answer else "", ignored)


def refreshed_token(token: Token, result: Any) -> Token:
    """`token` with the new secret and lifetime from a `refresh_token` answer."""
    if not isinstance(result, dict):
        raise ProtocolError("refresh_token result must be an object")
    return dataclasses.replace(
        token,
        token=_text(result, "token", required=True),
        expires=_expires(result.get("expires")),
    )
