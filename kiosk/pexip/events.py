"""Server-sent events of the client API as frozen dataclasses, keyed by the SSE event name.

`parse_event` never raises: an unknown name gives `UnknownEvent`, a payload of the wrong shape
`MalformedEvent` naming the problem (never the payload, which may hold personal data).
Unknown keys inside a known event are ignored, as the official clients do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_NAME_CHARS = 64


class _Bad(Exception):
    """A payload field has the wrong shape; the message names the field, not its value."""


@dataclass(frozen=True)
class InfinityEvent:
    pass


@dataclass(frozen=True)
class Participant:
    uuid: str
    display_name: str = field(repr=False)
    role: str  # "chair" or "guest" (anything else kept as sent)
    service_type: str  # connecting | waiting_room | ivr | conference | lecture | gateway | ...
    is_muted: bool = False
    is_video_muted: bool = False
    has_media: bool = False
    protocol: str = ""
    call_tag: str = field(default="", repr=False)
    start_time: float | None = None

    @property
    def is_host(self) -> bool:
        return self.role == "chair"


@dataclass(frozen=True)
class ParticipantSyncBegin(InfinityEvent):
    pass


@dataclass(frozen=True)
class ParticipantSyncEnd(InfinityEvent):
    pass


@dataclass(frozen=True)
class ParticipantCreate(InfinityEvent):
    participant: Participant


@dataclass(frozen=True)
class ParticipantUpdate(InfinityEvent):
    participant: Participant


@dataclass(frozen=True)
class ParticipantDelete(InfinityEvent):
    uuid: str


@dataclass(frozen=True)
class ConferenceUpdate(InfinityEvent):
    """Fields absent from the payload are None (older nodes send fewer)."""

    locked: bool | None = None
    started: bool | None = None
    direct_media: bool | None = None
    guests_muted: bool | None = None
    all_muted: bool | None = None
    presentation_allowed: bool | None = None


@dataclass(frozen=True)
class Disconnect(InfinityEvent):
    """The node is removing this participant."""

    reason: str = ""


@dataclass(frozen=True)
class CallDisconnected(InfinityEvent):
    call_uuid: str
    reason: str = ""


@dataclass(frozen=True)
class NewOffer(InfinityEvent):
    sdp: str = field(repr=False)


@dataclass(frozen=True)
class UpdateSdp(InfinityEvent):
    sdp: str = field(repr=False)


@dataclass(frozen=True)
class NewCandidate(InfinityEvent):
    candidate: str
    mid: str
    ufrag: str = ""
    pwd: str = field(default="", repr=False)


@dataclass(frozen=True)
class PeerDisconnect(InfinityEvent):
    pass


@dataclass(frozen=True)
class Refer(InfinityEvent):
    alias: str = field(repr=False)
    token: str = field(repr=False)


@dataclass(frozen=True)
class RefreshToken(InfinityEvent):
    pass


@dataclass(frozen=True)
class MessageReceived(InfinityEvent):
    origin: str = field(repr=False)
    type: str
    payload: str = field(repr=False)
    uuid: str = ""
    direct: bool = False


@dataclass(frozen=True)
class PresentationStart(InfinityEvent):
    presenter_uuid: str
    presenter_name: str = field(default="", repr=False)


@dataclass(frozen=True)
class PresentationStop(InfinityEvent):
    pass


@dataclass(frozen=True)
class StageEntry:
    participant_uuid: str
    stage_index: int
    vad: int


@dataclass(frozen=True)
class Stage(InfinityEvent):
    entries: tuple[StageEntry, ...]


@dataclass(frozen=True)
class Layout(InfinityEvent):
    view: str
    participants: tuple[str, ...] = ()


@dataclass(frozen=True)
class SplashScreen(InfinityEvent):
    """Direct media only: which themed screen to show; None removes it."""

    screen_key: str | None


@dataclass(frozen=True)
class UnknownEvent(InfinityEvent):
    name: str


@dataclass(frozen=True)
class MalformedEvent(InfinityEvent):
    name: str
    problem: str


# -- field readers: each raises _Bad naming the field and the type that came ---------------


def _obj(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _Bad(f"expected a JSON object, got {type(data).__name__}")
    return data


def _str(d: dict[str, Any], key: str, default: str | None = None) -> str:
    value = d.get(key, default)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise _Bad(f"{key} must be a string (got {type(value).__name__})")
    return value


def _bool(d: dict[str, Any], key: str, default: bool = False) -> bool:
    """Booleans come as JSON booleans or as "YES"/"NO" strings, depending on the field."""
    value = d.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if value in ("YES", "NO"):
        return bool(value == "YES")
    raise _Bad(f"{key} must be a boolean or YES/NO (got {type(value).__name__})")


def _opt_bool(d: dict[str, Any], key: str) -> bool | None:
    return None if d.get(key) is None else _bool(d, key)


def _number(d: dict[str, Any], key: str) -> float | None:
    value = d.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Bad(f"{key} must be a number (got {type(value).__name__})")
    return float(value)


def _int(d: dict[str, Any], key: str) -> int:
    value = d.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{key} must be an integer (got {type(value).__name__})")
    return value


def parse_participant(data: Any) -> Participant:
    d = _obj(data)
    uuid = _str(d, "uuid")
    if not uuid:
        raise _Bad("uuid must not be empty")
    return Participant(
        uuid=uuid,
        display_name=_str(d, "display_name", ""),
        role=_str(d, "role", ""),
        service_type=_str(d, "service_type", ""),
        is_muted=_bool(d, "is_muted"),
        is_video_muted=_bool(d, "is_video_muted"),
        has_media=_bool(d, "has_media"),
        protocol=_str(d, "protocol", ""),
        call_tag=_str(d, "call_tag", ""),
        start_time=_number(d, "start_time"),
    )


def _stage(data: Any) -> Stage:
    if not isinstance(data, list):
        raise _Bad(f"expected a JSON array, got {type(data).__name__}")
    entries = []
    for item in data:
        d = _obj(item)
        entry = StageEntry(_str(d, "participant_uuid"), _int(d, "stage_index"), _int(d, "vad"))
        entries.append(entry)
    return Stage(tuple(entries))


def _layout(data: Any) -> Layout:
    d = _obj(data)
    raw = d.get("participants")
    if raw is None:
        participants: tuple[str, ...] = ()
    elif isinstance(raw, str):  # direct media sends a single uuid
        participants = (raw,)
    elif isinstance(raw, list) and all(isinstance(p, str) for p in raw):
        participants = tuple(raw)
    else:
        raise _Bad("participants must be a string or a list of strings")
    return Layout(view=_str(d, "view", ""), participants=participants)


def _splash(data: Any) -> SplashScreen:
    if data is None:
        return SplashScreen(None)
    return SplashScreen(_str(_obj(data), "screen_key"))


def _conference_update(data: Any) -> ConferenceUpdate:
    d = _obj(data)
    return ConferenceUpdate(
        locked=_opt_bool(d, "locked"),
        started=_opt_bool(d, "started"),
        direct_media=_opt_bool(d, "direct_media"),
        guests_muted=_opt_bool(d, "guests_muted"),
        all_muted=_opt_bool(d, "all_muted"),
        presentation_allowed=_opt_bool(d, "presentation_allowed"),
    )


def _message(data: Any) -> MessageReceived:
    d = _obj(data)
    return MessageReceived(
        origin=_str(d, "origin", ""),
        type=_str(d, "type", ""),
        payload=_str(d, "payload", ""),
        uuid=_str(d, "uuid", ""),
        direct=_bool(d, "direct"),
    )


_PARSERS: dict[str, Callable[[Any], InfinityEvent]] = {
    "participant_sync_begin": lambda _: ParticipantSyncBegin(),
    "participant_sync_end": lambda _: ParticipantSyncEnd(),
    "participant_create": lambda d: ParticipantCreate(parse_participant(d)),
    "participant_update": lambda d: ParticipantUpdate(parse_participant(d)),
    "participant_delete": lambda d: ParticipantDelete(_str(_obj(d), "uuid")),
    "conference_update": _conference_update,
    "disconnect": lambda d: Disconnect(_str(_obj(d), "reason", "")),
    "call_disconnected": lambda d: CallDisconnected(
        _str(_obj(d), "call_uuid"), _str(_obj(d), "reason", "")
    ),
    "new_offer": lambda d: NewOffer(_str(_obj(d), "sdp")),
    "update_sdp": lambda d: UpdateSdp(_str(_obj(d), "sdp")),
    "new_candidate": lambda d: NewCandidate(
        _str(_obj(d), "candidate"),
        _str(_obj(d), "mid"),
        _str(_obj(d), "ufrag", ""),
        _str(_obj(d), "pwd", ""),
    ),
    "peer_disconnect": lambda _: PeerDisconnect(),
    "refer": lambda d: Refer(_str(_obj(d), "alias"), _str(_obj(d), "token")),
    "refresh_token": lambda _: RefreshToken(),
    "message_received": _message,
    "presentation_start": lambda d: PresentationStart(
        _str(_obj(d), "presenter_uuid", ""), _str(_obj(d), "presenter_name", "")
    ),
    "presentation_stop": lambda _: PresentationStop(),
    "stage": _stage,
    "layout": _layout,
    "splash_screen": _splash,
}

EVENT_NAMES = frozenset(_PARSERS)


def parse_event(name: str, data: str) -> InfinityEvent:
    """Turn one SSE message (event name and data text) into a typed event; never raises."""
    name = name[:MAX_NAME_CHARS]
    parser = _PARSERS.get(name)
    if parser is None:
        return UnknownEvent(name)
    if data.strip() == "":
        payload: Any = None
    else:
        try:
            payload = json.loads(data)
        except (ValueError, RecursionError):
            return MalformedEvent(name, "data is not valid JSON")
    try:
        return parser(payload)
    except _Bad as exc:
        return MalformedEvent(name, str(exc))
    except (TypeError, ValueError, RecursionError) as exc:
        return MalformedEvent(name, f"unexpected shape ({type(exc).__name__})")
