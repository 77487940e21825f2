"""Every captured Pexip payload in fixtures/ through the kiosk's parsers, and what each means.

The payloads are the test resources of Pexip's Android SDK (see fixtures/README.md). Each file is
either an SSE event body, a REST answer, or something the kiosk leaves alone on purpose; a new
file that is none of these fails `test_every_fixture_is_accounted_for`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kiosk.pexip.answers import parse_token, update_answer
from kiosk.pexip.errors import InvalidToken, NoSuchConference, NoSuchNode, error_for_status
from kiosk.pexip.events import (
    ConferenceUpdate,
    Disconnect,
    InfinityEvent,
    NewCandidate,
    ParticipantCreate,
    ParticipantUpdate,
    Refer,
    UnknownEvent,
    parse_event,
)
from tests.pexip.test_events import TABLE as EVENT_TABLE

FIXTURES = Path(__file__).parent / "fixtures"


def _text(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def _result(name: str) -> Any:
    return json.loads(_text(name))["result"]


# REST answers the kiosk reads, and the test that reads each.
REST_ANSWERS = frozenset(
    {
        "request_token_v35",
        "request_token_v36",
        "invalid_token",
        "conference_not_found",
        "update_response",
        "update_response_direct_media",
        "update_response_direct_media_offer_ignored",
    }
)

# Left alone on purpose, with the reason. The kiosk is one patient in one room: it never
# presents, steers a camera, picks layouts, takes incoming calls or joins breakout rooms, and
# draws its own waiting screens rather than the node's theme.
UNSUPPORTED = {
    "available_layouts": "GET available_layouts: the kiosk never picks a layout",
    "layout_svgs": "GET layout_svgs: the kiosk never picks a layout",
    "illegal_layout_transform": "POST transform_layout answer: never sent",
    "theme": "GET theme: the kiosk draws its own screens in the patient's language",
    "splash_screen_direct_media": "a theme entry (GET theme), not an event",
    "splash_screen_unknown": "a theme entry (GET theme), not an event",
    "element_text": "a theme element (GET theme)",
    "element_unknown": "a theme element (GET theme)",
    "fecc_start": "far-end camera control: the kiosk's camera is fixed",
    "fecc_continue": "far-end camera control: the kiosk's camera is fixed",
    "fecc_stop": "far-end camera control: the kiosk's camera is fixed",
    "fecc_unknown": "far-end camera control: the kiosk's camera is fixed",
    "incoming": "registration events: the kiosk never registers for incoming calls",
    "incoming_cancelled": "registration events: the kiosk never registers for incoming calls",
    "breakout_begin": "breakout rooms: the kiosk does not say breakout_capable",
    "breakout_end": "breakout rooms: the kiosk does not say breakout_capable",
    "breakout_event_conference_update": "breakout rooms: not breakout_capable",
    "breakout_event_participant_create": "breakout rooms: not breakout_capable",
    "breakout_event_participant_delete": "breakout rooms: not breakout_capable",
    "breakout_event_participant_sync_begin": "breakout rooms: not breakout_capable",
    "breakout_event_participant_sync_end": "breakout rooms: not breakout_capable",
    "breakout_event_participant_update": "breakout rooms: not breakout_capable",
    "breakout_event_presentation_stop": "breakout rooms: not breakout_capable",
    "breakout_event_stage": "breakout rooms: not breakout_capable",
    "bye": "Android's event-stream end marker; the kiosk reads the end of the stream itself",
}


def test_every_fixture_is_accounted_for() -> None:
    events = {fixture for _, fixture, _ in EVENT_TABLE} | {"participant_create_unknown"}
    on_disk = {p.stem for p in FIXTURES.glob("*.json")}
    accounted = events | REST_ANSWERS | set(UNSUPPORTED)
    assert on_disk - accounted == set(), "fixtures nobody reads nor declares unsupported"
    assert accounted - on_disk == set(), "fixtures named here but missing"
    assert events.isdisjoint(UNSUPPORTED) and REST_ANSWERS.isdisjoint(UNSUPPORTED)


@pytest.mark.parametrize(
    ("name", "fixture", "expected"), EVENT_TABLE, ids=[t[1] for t in EVENT_TABLE]
)
def test_event_payloads_parse_to_their_event(
    name: str, fixture: str, expected: InfinityEvent
) -> None:
    assert parse_event(name, _text(fixture)) == expected


@pytest.mark.parametrize(
    "fixture", sorted(f for f in UNSUPPORTED if f.startswith("breakout_event"))
)
def test_breakout_events_are_unknown_and_change_nothing(fixture: str) -> None:
    wrapped = json.loads(_text(fixture))
    assert parse_event("breakout_event", json.dumps(wrapped)) == UnknownEvent("breakout_event")


@pytest.mark.parametrize("name", ["fecc", "incoming", "incoming_cancelled", "breakout_begin"])
def test_unsupported_event_names_are_unknown(name: str) -> None:
    assert parse_event(name, "{}") == UnknownEvent(name)


def test_what_the_events_mean() -> None:
    # Admission is a participant_update whose service_type is "conference" (PexRTC
    # processEvent); the captured create is one such participant, the update a gateway leg.
    create = parse_event("participant_create", _text("participant_create"))
    assert isinstance(create, ParticipantCreate)
    assert create.participant.service_type == "conference" and not create.participant.is_host
    update = parse_event("participant_update", _text("participant_update"))
    assert isinstance(update, ParticipantUpdate) and update.participant.is_host
    # started=True: a host is in; False would mean everyone waits (Android InfinityEvent).
    conference = parse_event("conference_update", _text("conference_update"))
    assert isinstance(conference, ConferenceUpdate) and conference.started is True
    # The removal reason is carried as the node words it.
    assert parse_event("disconnect", _text("disconnect")) == Disconnect(
        "Disconnected by remote host"
    )
    # refer: leave, then request_token on the alias with the one-time token (RefererImpl).
    assert parse_event("refer", _text("refer")) == Refer(alias="toto", token="ZqW")
    # A trickled candidate with its mid, to be added to the peer connection.
    candidate = parse_event("new_candidate", _text("new_candidate"))
    assert isinstance(candidate, NewCandidate) and candidate.mid == "tyU1tUaHqn"


@pytest.mark.parametrize("fixture", ["request_token_v35", "request_token_v36"])
def test_token_answers_announce_trickle_and_direct_media(fixture: str) -> None:
    result = _result(fixture)
    token = parse_token(result)
    assert (token.expires, token.is_host, token.current_service_type) == (120.0, True, "conference")
    assert token.direct_media is True
    # Current nodes trickle: candidates come as new_candidate events after the SDP.
    assert result["trickle_ice_enabled"] is True


def test_error_bodies_mean_what_the_sdk_says() -> None:
    assert isinstance(error_for_status(403, _text("invalid_token")), InvalidToken)
    assert isinstance(error_for_status(404, _text("conference_not_found")), NoSuchConference)
    # The same 404 without a JSON body comes from something that is no conferencing node.
    assert isinstance(error_for_status(404, "<html>Not Found</html>"), NoSuchNode)


def test_update_answers_transcoded_direct_and_offer_ignored() -> None:
    assert update_answer(_result("update_response")) == "uqbNGpd1u4"
    assert update_answer(_result("update_response_direct_media")) == "D7ZanzX2QK"
    # Not an error: wait for the far end's offer (new_offer / update_sdp).
    assert update_answer(_result("update_response_direct_media_offer_ignored")) == ""
