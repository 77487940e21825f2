"""Hostile SDP: from `calls` answers and from `new_offer`/`update_sdp` events. Nothing the
node sends may crash the client: it raises ProtocolError or drops the event with a log line
that carries none of the payload."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.pexip import Conference, InfinityClient, ProtocolError, RemoteOffer, Signal
from kiosk.pexip.answers import Token
from kiosk.pexip.events import parse_event
from kiosk.pexip.sdp import MAX_SDP_CHARS, checked_sdp

GOOD = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
SECRET = "Kari Nordmann 12345678901"

HOSTILE = [
    "",
    "dDxBW7fN4d",  # what Pexip's own test payloads carry
    "v=1\r\n",
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n\x00\r\n",
    "v=0\r\nno equals sign\r\n",
    "v=0\r\n" + "a=x\r\n" * (MAX_SDP_CHARS // 5),
    "v=0\r\na=\x1b[31m" + SECRET + "\r\n",
    "v=0\r\n" + SECRET + "\r\n",
]


def test_a_real_outline_passes_unchanged() -> None:
    assert checked_sdp(GOOD) is GOOD
    assert checked_sdp(GOOD.replace("\r\n", "\n")) == GOOD.replace("\r\n", "\n")


@pytest.mark.parametrize("sdp", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_sdp_is_a_protocol_error_without_its_content(sdp: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        checked_sdp(sdp)
    assert SECRET not in str(caught.value)
    assert "expected" in str(caught.value)


@pytest.mark.parametrize("value", [None, 42, ["v=0"], {"sdp": "v=0"}])
def test_non_strings_are_protocol_errors(value: object) -> None:
    with pytest.raises(ProtocolError):
        checked_sdp(value)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=3000) | st.binary(max_size=3000).map(lambda b: b.decode("latin-1")))
def test_any_text_is_accepted_or_a_protocol_error(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        assert checked_sdp(text) == text


# -- the event path: parse_event -> Conference ----------------------------------------------


# Never contacted: these tests feed the conference events directly.
_UNUSED_CLIENT = InfinityClient("http://127.0.0.1:9", ["127.0.0.1"])


def _joined_conference() -> Conference:
    conference = Conference(_UNUSED_CLIENT, "123456")
    conference._token = Token(token="t", expires=120, participant_uuid="me")
    conference._call_uuid = "call"
    return conference


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["new_offer", "update_sdp"]),
    data=st.one_of(
        st.text(max_size=2000),
        st.binary(max_size=2000).map(lambda b: b.decode("utf-8", errors="replace")),
        st.builds(lambda s: json.dumps({"sdp": s}), st.text(max_size=2000)),
        st.builds(
            lambda s: json.dumps({"sdp": "v=0\r\n" + s}),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=500),
        ),
        st.builds(json.dumps, st.recursive(st.none() | st.integers() | st.text(), st.lists)),
    ),
)
def test_any_offer_event_becomes_a_checked_remote_offer_or_nothing(name: str, data: str) -> None:
    conference = _joined_conference()
    conference._handle(parse_event(name, data))
    assert all(isinstance(s, RemoteOffer) for s in conference.history)
    for signal in conference.history:
        assert isinstance(signal, RemoteOffer) and checked_sdp(signal.sdp) == signal.sdp


def test_a_dropped_offer_logs_its_name_and_problem_only(caplog: pytest.LogCaptureFixture) -> None:
    conference = _joined_conference()
    with caplog.at_level(logging.INFO, logger="kiosk.pexip"):
        conference._handle(parse_event("new_offer", json.dumps({"sdp": "v=0\r\n" + SECRET})))
        conference._handle(parse_event("update_sdp", json.dumps({"sdp": 7})))
        conference._handle(parse_event("new_offer", json.dumps({"sdp": GOOD})))
    history: list[Signal] = list(conference.history)
    assert history == [RemoteOffer(GOOD)]
    text = caplog.text
    assert "dropped a NewOffer event" in text and "dropped a malformed update_sdp" in text
    assert SECRET not in text and "12345678901" not in text


# -- the calls answer path, over loopback ---------------------------------------------------


@pytest.fixture
async def answering() -> AsyncIterator[tuple[list[str], InfinityClient]]:
    bodies: list[str] = []

    async def calls(request: web.Request) -> web.Response:
        return web.Response(text=bodies.pop(0), content_type="application/json")

    app = web.Application()
    app.router.add_post("/api/client/v2/conferences/123456/participants/me/calls", calls)
    async with (
        TestServer(app, host="127.0.0.1") as server,
        InfinityClient(str(server.make_url("/")), ["127.0.0.1"]) as client,
    ):
        yield bodies, client


def _calls_result(sdp: object, **extra: object) -> str:
    return json.dumps({"status": "success", "result": {"call_uuid": "c1", "sdp": sdp, **extra}})


@pytest.mark.parametrize("sdp", [*HOSTILE[1:], 5, ["v=0"], {"v": 0}], ids=range(len(HOSTILE) + 2))
async def test_a_hostile_calls_answer_is_a_protocol_error(
    answering: tuple[list[str], InfinityClient], sdp: object
) -> None:
    bodies, client = answering
    bodies.append(_calls_result(sdp))
    token = Token(token="t", expires=120, participant_uuid="me")
    with pytest.raises(ProtocolError) as caught:
        await client.conference("123456").participant("me").calls(token, GOOD)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (_calls_result(""), ""),
        (_calls_result("", offer_ignored=True), ""),
        # An ignored offer's leftover SDP, even a broken one, is not looked at.
        (_calls_result("junk", offer_ignored=True), ""),
        (_calls_result(GOOD), GOOD),
    ],
)
async def test_place_call_returns_empty_for_an_ignored_or_empty_answer(
    answering: tuple[list[str], InfinityClient], body: str, answer: str
) -> None:
    bodies, client = answering
    bodies.append(body)
    conference = Conference(client, "123456")
    conference._token = Token(token="t", expires=120, participant_uuid="me")
    assert await conference.place_call(GOOD) == answer
    assert conference.call_uuid == "c1"


async def test_binary_garbage_as_the_calls_answer(
    answering: tuple[list[str], InfinityClient],
) -> None:
    bodies, client = answering
    bodies.append("\x00\xff\xfe" * 1000)
    token = Token(token="t", expires=120, participant_uuid="me")
    with pytest.raises(ProtocolError, match="expected JSON from calls"):
        await client.conference("123456").participant("me").calls(token, GOOD)
