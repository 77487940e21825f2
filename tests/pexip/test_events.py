"""parse_event against Pexip's own captured payloads, and against anything at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.pexip.events import (
    EVENT_NAMES,
    CallDisconnected,
    ConferenceUpdate,
    Disconnect,
    InfinityEvent,
    Layout,
    MalformedEvent,
    MessageReceived,
    NewCandidate,
    NewOffer,
    Participant,
    ParticipantCreate,
    ParticipantDelete,
    ParticipantSyncBegin,
    ParticipantSyncEnd,
    ParticipantUpdate,
    PeerDisconnect,
    PresentationStart,
    PresentationStop,
    Refer,
    RefreshToken,
    SplashScreen,
    Stage,
    StageEntry,
    UnknownEvent,
    UpdateSdp,
    parse_event,
)

FIXTURES = Path(__file__).parent / "fixtures"
GEORGE = "0296f038-7f41-4c73-8dcf-0b95bd0138c7"


def _fixture(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


TABLE: list[tuple[str, str, InfinityEvent]] = [
    ("participant_sync_begin", "participant_sync_begin", ParticipantSyncBegin()),
    ("participant_sync_end", "participant_sync_end", ParticipantSyncEnd()),
    (
        "participant_create",
        "participant_create",
        ParticipantCreate(
            Participant(
                uuid=GEORGE,
                display_name="George R",
                role="guest",
                service_type="conference",
                is_muted=True,
                is_video_muted=False,
                has_media=True,
                protocol="api",
                call_tag="dd806491-eecc-42fc-accb-86a99448fc17",
                start_time=1700484383.846972,
            )
        ),
    ),
    (
        "participant_update",
        "participant_update",
        ParticipantUpdate(
            Participant(
                uuid=GEORGE,
                display_name="George R",
                role="chair",
                service_type="gateway",
                is_muted=True,
                has_media=True,
                protocol="webrtc",
                call_tag="dd806491-eecc-42fc-accb-86a99448fc17",
                start_time=1700486477.114828,
            )
        ),
    ),
    ("participant_delete", "participant_delete", ParticipantDelete(GEORGE)),
    (
        "conference_update",
        "conference_update",
        ConferenceUpdate(
            locked=False,
            started=True,
            direct_media=False,
            guests_muted=False,
            all_muted=False,
            presentation_allowed=True,
        ),
    ),
    ("disconnect", "disconnect", Disconnect("Disconnected by remote host")),
    ("new_offer", "new_offer", NewOffer("dDxBW7fN4d")),
    ("update_sdp", "update_sdp", UpdateSdp("XY4ckQoc2g")),
    (
        "new_candidate",
        "new_candidate",
        NewCandidate("sXyJ0h2vh8", "tyU1tUaHqn", "2WrhfEx9Jh", "EBZ0fhSaJt"),
    ),
    ("peer_disconnect", "peer_disconnect", PeerDisconnect()),
    ("refer", "refer", Refer("toto", "ZqW")),
    (
        "message_received",
        "message_received",
        MessageReceived(
            "George", "text/plain", "hello", "dc46269f-5b39-4356-93fd-94d31b890bd5", True
        ),
    ),
    ("presentation_start", "presentation_start", PresentationStart(GEORGE, "George")),
    ("presentation_stop", "presentation_stop", PresentationStop()),
    (
        "stage",
        "stage",
        Stage(
            (
                StageEntry("119895e3-c614-4e92-b906-90fd2afd6dff", 0, 100),
                StageEntry("25206ea5-5fa6-4bfb-93ff-3c6aa74e03c2", 1, 0),
            )
        ),
    ),
    ("layout", "layout", Layout("1:0", ())),
    (
        "layout",
        "layout_direct_media",
        Layout("1:0", ("c7a08522-5bd5-4d39-a2ce-a8d97bb9c80d",)),
    ),
    ("splash_screen", "splash_screen", SplashScreen("direct_media_welcome")),
    ("splash_screen", "splash_screen_null", SplashScreen(None)),
]


@pytest.mark.parametrize(("name", "fixture", "expected"), TABLE, ids=[t[1] for t in TABLE])
def test_captured_payloads_parse_to_their_event(
    name: str, fixture: str, expected: InfinityEvent
) -> None:
    assert parse_event(name, _fixture(fixture)) == expected


def test_an_unknown_role_is_kept_as_sent() -> None:
    event = parse_event("participant_create", _fixture("participant_create_unknown"))
    assert isinstance(event, ParticipantCreate)
    assert (event.participant.role, event.participant.is_host) == ("unknown", False)


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("refresh_token", "", RefreshToken()),
        (
            "call_disconnected",
            '{"call_uuid": "c1", "reason": "gone"}',
            CallDisconnected("c1", "gone"),
        ),
        ("disconnect", "{}", Disconnect("")),
        ("fecc", "{}", UnknownEvent("fecc")),
        ("x" * 500, "{}", UnknownEvent("x" * 64)),
        (
            "participant_create",
            "{not json",
            MalformedEvent("participant_create", "data is not valid JSON"),
        ),
        (
            "participant_create",
            "[]",
            MalformedEvent("participant_create", "expected a JSON object, got list"),
        ),
        (
            "participant_create",
            '{"uuid": ""}',
            MalformedEvent("participant_create", "uuid must not be empty"),
        ),
        (
            "participant_update",
            '{"uuid": "u", "is_muted": "maybe"}',
            MalformedEvent("participant_update", "is_muted must be a boolean or YES/NO (got str)"),
        ),
        ("new_offer", '{"sdp": 5}', MalformedEvent("new_offer", "sdp must be a string (got int)")),
        ("stage", '{"a": 1}', MalformedEvent("stage", "expected a JSON array, got dict")),
        (
            "stage",
            '[{"participant_uuid": "u", "vad": true}]',
            MalformedEvent("stage", "vad must be an integer (got bool)"),
        ),
        (
            "conference_update",
            "[" * 100_000,
            MalformedEvent("conference_update", "data is not valid JSON"),
        ),
    ],
)
def test_hostile_payloads_become_named_problems(
    name: str, data: str, expected: InfinityEvent
) -> None:
    assert parse_event(name, data) == expected


def test_a_malformed_event_keeps_nothing_of_the_payload() -> None:
    event = parse_event("participant_create", '{"uuid": "u", "display_name": ["Kari Nordmann"]}')
    assert isinstance(event, MalformedEvent)
    assert "Kari" not in repr(event)


def test_names_and_secrets_stay_out_of_reprs() -> None:
    event = parse_event("participant_create", _fixture("participant_create"))
    assert "George" not in repr(event)
    assert "hello" not in repr(parse_event("message_received", _fixture("message_received")))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
_field_names = st.sampled_from(
    [
        "uuid",
        "display_name",
        "role",
        "service_type",
        "is_muted",
        "sdp",
        "reason",
        "call_uuid",
        "participants",
        "view",
        "screen_key",
        "locked",
        "started",
        "vad",
        "stage_index",
        "candidate",
        "mid",
        "alias",
        "token",
        "origin",
        "payload",
        "direct",
        "start_time",
        "participant_uuid",
    ]
)
_shaped = st.recursive(
    _json,
    lambda inner: st.dictionaries(_field_names, inner, max_size=8) | st.lists(inner, max_size=3),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(EVENT_NAMES)), payload=_shaped)
def test_known_names_with_any_json_never_raise(name: str, payload: object) -> None:
    event = parse_event(name, json.dumps(payload))
    assert isinstance(event, InfinityEvent)
    assert not isinstance(event, UnknownEvent)


@settings(max_examples=300, deadline=None)
@given(name=st.text(max_size=30) | st.sampled_from(sorted(EVENT_NAMES)), data=st.text(max_size=200))
def test_any_text_never_raises(name: str, data: str) -> None:
    assert isinstance(parse_event(name, data), InfinityEvent)
