"""InfinityClient, one test per endpoint and status: against the reference node, and against
a tiny aiohttp server for the statuses the node never gives."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from kiosk.pexip.answers import Token, parse_token
from kiosk.pexip.client import MAX_BODY_BYTES, InfinityClient
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
)
from kiosk.pexip.events import ConferenceUpdate, ParticipantSyncBegin, ParticipantSyncEnd
from kiosk.refnode import RefNode, RoomSpec

FIXTURES = Path(__file__).parent / "fixtures"
ALIAS, HOST_PIN, GUEST_ROOM, GUEST_PIN = "123456", "4321", "654321", "1111"


@pytest.fixture
async def node() -> AsyncIterator[RefNode]:
    refnode = RefNode([RoomSpec(ALIAS, HOST_PIN), RoomSpec(GUEST_ROOM, HOST_PIN, GUEST_PIN)])
    await refnode.start()
    yield refnode
    await refnode.stop()


@pytest.fixture
async def client(node: RefNode) -> AsyncIterator[InfinityClient]:
    async with InfinityClient(node.base_url, ["127.0.0.1"]) as c:
        yield c


# -- allow-list ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "hosts"),
    [
        ("https://evil.example", ["join.nhn.no"]),
        ("https://join.nhn.no.evil.example", ["join.nhn.no"]),
        ("http://join.nhn.no", ["join.nhn.no"]),
        ("ftp://127.0.0.1", ["127.0.0.1"]),
        ("https://127.0.0.1", ["localhost"]),
    ],
)
def test_hosts_off_the_list_or_plain_http_off_loopback_are_refused(
    url: str, hosts: list[str]
) -> None:
    with pytest.raises(HostNotAllowed):
        InfinityClient(url, hosts)


@pytest.mark.parametrize(
    "url", ["https://JOIN.nhn.no", "https://join.nhn.no:8443/", "http://127.0.0.1:8080"]
)
def test_listed_hosts_are_accepted(url: str) -> None:
    InfinityClient(url, ["join.nhn.no", "127.0.0.1"])


# -- against the reference node -------------------------------------------------------------


async def test_status_200(client: InfinityClient) -> None:
    await client.status()


async def test_request_token_as_host(client: InfinityClient) -> None:
    token = await client.conference(ALIAS).request_token("Lege", pin=HOST_PIN, call_tag="t1")
    assert (token.role, token.current_service_type, token.expires) == ("HOST", "conference", 120)
    assert token.display_name == "Lege" and not token.direct_media


async def test_request_token_without_pin_asks_for_one(client: InfinityClient) -> None:
    with pytest.raises(PinRequired) as caught:
        await client.conference(ALIAS).request_token("Kari")
    assert caught.value.guest_pin_required is False


async def test_request_token_blank_pin_joins_as_waiting_guest(client: InfinityClient) -> None:
    token = await client.conference(ALIAS).request_token("Kari", pin="")
    assert (token.role, token.current_service_type) == ("GUEST", "waiting_room")


async def test_request_token_guest_pin_room_requires_it(client: InfinityClient) -> None:
    with pytest.raises(PinRequired) as caught:
        await client.conference(GUEST_ROOM).request_token("Kari", pin="")
    assert caught.value.guest_pin_required is True
    token = await client.conference(GUEST_ROOM).request_token("Kari", pin=GUEST_PIN)
    assert token.role == "GUEST"


async def test_request_token_wrong_pin(client: InfinityClient) -> None:
    with pytest.raises(InvalidPin):
        await client.conference(ALIAS).request_token("Kari", pin="9999")


async def test_request_token_unknown_alias_404_json(client: InfinityClient) -> None:
    with pytest.raises(NoSuchConference):
        await client.conference("999999").request_token("Kari", pin="")


async def test_refresh_token_200_then_the_old_one_is_dead(client: InfinityClient) -> None:
    step = client.conference(ALIAS)
    token = await step.request_token("Lege", pin=HOST_PIN)
    fresh = await step.refresh_token(token)
    assert fresh.token != token.token
    assert fresh.participant_uuid == token.participant_uuid
    with pytest.raises(InvalidToken):
        await step.refresh_token(token)


async def test_release_token_200_then_403(client: InfinityClient, node: RefNode) -> None:
    step = client.conference(ALIAS)
    token = await step.request_token("Lege", pin=HOST_PIN)
    await step.release_token(token)
    assert node.room(ALIAS).participants == {}
    with pytest.raises(InvalidToken):
        await step.release_token(token)


async def test_lock_and_unlock_200_for_host_403_for_guest(
    client: InfinityClient, node: RefNode
) -> None:
    step = client.conference(ALIAS)
    host = await step.request_token("Lege", pin=HOST_PIN)
    guest = await step.request_token("Kari", pin="")
    await step.unlock(host)
    assert node.room(ALIAS).locked is False
    assert node.room(ALIAS).participants[guest.participant_uuid].service_type == "conference"
    await step.lock(host)
    assert node.room(ALIAS).locked is True
    for call in (step.lock, step.unlock):
        with pytest.raises(InvalidToken):
            await call(guest)


async def test_participant_unlock_admits_one(client: InfinityClient, node: RefNode) -> None:
    step = client.conference(ALIAS)
    host = await step.request_token("Lege", pin=HOST_PIN)
    first = await step.request_token("Kari", pin="")
    second = await step.request_token("Ola", pin="")
    await step.participant(first.participant_uuid).unlock(host)
    room = node.room(ALIAS).participants
    assert room[first.participant_uuid].service_type == "conference"
    assert room[second.participant_uuid].service_type == "waiting_room"
    with pytest.raises(InvalidToken):
        await step.participant(second.participant_uuid).unlock(first)


async def test_participant_disconnect_by_host(client: InfinityClient, node: RefNode) -> None:
    step = client.conference(ALIAS)
    host = await step.request_token("Lege", pin=HOST_PIN)
    guest = await step.request_token("Kari", pin="")
    with pytest.raises(InvalidToken):
        await step.participant(host.participant_uuid).disconnect(guest)
    await step.participant(guest.participant_uuid).disconnect(host)
    assert list(node.room(ALIAS).participants) == [host.participant_uuid]


async def test_events_start_with_the_sync_bracket(client: InfinityClient) -> None:
    step = client.conference(ALIAS)
    token = await step.request_token("Lege", pin=HOST_PIN)
    seen = []
    async for event in step.events(token):
        seen.append(type(event))
        if isinstance(event, ConferenceUpdate):
            break
    assert seen[0] is ParticipantSyncBegin and seen[-2:] == [ParticipantSyncEnd, ConferenceUpdate]


async def test_events_with_a_bad_token_403(client: InfinityClient) -> None:
    token = await client.conference(ALIAS).request_token("Lege", pin=HOST_PIN)
    bad = Token(token="nope", expires=1, participant_uuid=token.participant_uuid)
    with pytest.raises(InvalidToken):
        async for _ in client.conference(ALIAS).events(bad):
            pass


async def test_calls_with_a_bad_offer_400_then_ack_on_unknown_call(client: InfinityClient) -> None:
    step = client.conference(ALIAS)
    token = await step.request_token("Lege", pin=HOST_PIN)
    with pytest.raises(PexipError, match="got 400"):
        await step.participant(token.participant_uuid).calls(token, "v=0 not an offer")
    with pytest.raises(NoSuchConference):
        await step.participant(token.participant_uuid).call("no-such-call").ack(token)


async def test_maintenance_503(client: InfinityClient, node: RefNode) -> None:
    node.maintenance = True
    with pytest.raises(Maintenance):
        await client.status()


# -- statuses the node never gives: a tiny server --------------------------------------------


class Scripted:
    """Answers each request with the next (status, body) and records what came."""

    def __init__(self, *answers: tuple[int, str]) -> None:
        self.answers = list(answers)
        self.seen: list[tuple[str, str, dict[str, str], str]] = []
        self.redirect: tuple[int, str] | None = None
        self.stream_bytes = 0
        self.streamed = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        self.seen.append((request.method, request.path, dict(request.headers), body))
        if self.redirect is not None:
            status, location = self.redirect
            return web.Response(status=status, headers={"Location": location})
        if self.stream_bytes:
            return await self._stream(request)
        status, text = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return web.Response(status=status, text=text, content_type="application/json")

    async def _stream(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        chunk = b" " * 65536
        try:
            await response.write(b'{"result": "')
            while self.streamed < self.stream_bytes:
                await response.write(chunk)
                self.streamed += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return response


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Scripted, InfinityClient]]:
    script = Scripted((200, "{}"))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        client = InfinityClient(str(server.make_url("/")), ["127.0.0.1"], backoff_s=0.01)
        async with client:
            yield script, client


def _ok(result: object) -> tuple[int, str]:
    return 200, json.dumps({"status": "success", "result": result})


async def test_pin_and_token_travel_as_headers(scripted: tuple[Scripted, InfinityClient]) -> None:
    script, client = scripted
    script.answers = [(200, (FIXTURES / "request_token_v36.json").read_text())]
    token = await client.conference("123456").request_token("Kari", pin=" ")
    script.answers = [_ok({"token": "new", "expires": "60"})]
    await client.conference("123456").refresh_token(token)
    (m1, path1, h1, body1), (_, path2, h2, _) = script.seen
    assert (m1, path1, h1["pin"]) == (
        "POST",
        "/api/client/v2/conferences/123456/request_token",
        "none",
    )
    assert json.loads(body1) == {"display_name": "Kari", "direct_media": False}
    assert "token" not in h1 and "pin" not in h2
    assert (path2, h2["token"]) == ("/api/client/v2/conferences/123456/refresh_token", token.token)


async def test_502_is_retried_until_200(scripted: tuple[Scripted, InfinityClient]) -> None:
    script, client = scripted
    script.answers = [(502, ""), (504, ""), (200, "")]
    await client.status()
    assert len(script.seen) == 3


async def test_504_forever_gives_node_unreachable(
    scripted: tuple[Scripted, InfinityClient],
) -> None:
    script, client = scripted
    script.answers = [(504, "")]
    with pytest.raises(NodeUnreachable, match="after 6 tries"):
        await client.status()
    assert len(script.seen) == 6  # the first and five retries


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (404, "<html>not found</html>", NoSuchNode),
        (404, (FIXTURES / "conference_not_found.json").read_text(), NoSuchConference),
        (403, (FIXTURES / "invalid_token.json").read_text(), InvalidToken),
        (503, "", Maintenance),
        (400, "{}", PexipError),
        (200, "not json", ProtocolError),
        (200, '{"status": "success"}', ProtocolError),
        (200, json.dumps({"status": "success", "result": {"token": "t"}}), ProtocolError),
        (
            200,
            json.dumps({"status": "success", "result": {"token": "t", "expires": "x"}}),
            ProtocolError,
        ),
    ],
)
async def test_error_statuses_are_named_and_never_retried(
    scripted: tuple[Scripted, InfinityClient], status: int, body: str, error: type[Exception]
) -> None:
    script, client = scripted
    script.answers = [(status, body)]
    with pytest.raises(error):
        await client.conference("123456").refresh_token(
            Token(token="t", expires=120, participant_uuid="p")
        )
    assert len(script.seen) == 1


async def test_request_token_403_guest_pin_required(
    scripted: tuple[Scripted, InfinityClient],
) -> None:
    script, client = scripted
    script.answers = [
        (
            403,
            json.dumps(
                {"status": "success", "result": {"pin": "required", "guest_pin": "required"}}
            ),
        )
    ]
    with pytest.raises(PinRequired) as caught:
        await client.conference("123456").request_token("Kari")
    assert caught.value.guest_pin_required is True


async def test_update_returns_the_answer_sdp(scripted: tuple[Scripted, InfinityClient]) -> None:
    script, client = scripted
    token = Token(token="t", expires=120, participant_uuid="p")
    call = client.conference("123456").participant("p").call("c")
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    script.answers = [
        (200, json.dumps({"result": sdp})),
        (200, json.dumps({"result": {"sdp": sdp}})),
    ]
    assert await call.update(token, "offer") == sdp
    assert await call.update(token, "offer") == sdp
    assert [json.loads(s[3]) for s in script.seen] == [{"sdp": "offer"}, {"sdp": "offer"}]


@pytest.mark.parametrize("fixture", ["update_response.json", "update_response_direct_media.json"])
async def test_update_refuses_an_answer_that_is_no_sdp(
    scripted: tuple[Scripted, InfinityClient], fixture: str
) -> None:
    # Pexip's captured payloads carry ten random characters where the SDP would be.
    script, client = scripted
    token = Token(token="t", expires=120, participant_uuid="p")
    script.answers = [(200, (FIXTURES / fixture).read_text())]
    with pytest.raises(ProtocolError, match="starting with v=0"):
        await client.conference("123456").participant("p").call("c").update(token, "offer")


async def test_a_closed_port_is_node_unreachable() -> None:
    async with InfinityClient("http://127.0.0.1:9", ["127.0.0.1"], retries=1, backoff_s=0.01) as c:
        with pytest.raises(NodeUnreachable, match="after 2 tries"):
            await c.status()


@pytest.mark.parametrize("fixture", ["request_token_v35", "request_token_v36"])
def test_token_fixtures_parse(fixture: str) -> None:
    result = json.loads((FIXTURES / f"{fixture}.json").read_text())["result"]
    token = parse_token(result)
    assert (token.expires, token.role, token.current_service_type, token.direct_media) == (
        120.0,
        "HOST",
        "conference",
        True,
    )
    assert token.token not in repr(token)


# -- hostile answers: redirects, sizes, field types ------------------------------------------


class Recorder:
    """The host on the other side of a redirect: it must never hear from the kiosk."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.path)
        return web.Response(text=json.dumps({"result": {}}), content_type="application/json")


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        yield recorder, str(server.make_url("/"))


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirect_is_a_protocol_error_and_never_followed(
    scripted: tuple[Scripted, InfinityClient], elsewhere: tuple[Recorder, str], status: int
) -> None:
    script, client = scripted
    recorder, other = elsewhere
    script.redirect = (status, other + "api/client/v2/conferences/123456/request_token")
    with pytest.raises(ProtocolError, match=f"redirect {status}"):
        await client.conference("123456").request_token("Kari", pin="1234")
    with pytest.raises(ProtocolError, match=f"redirect {status}"):
        await client.conference("123456").refresh_token(
            Token(token="t", expires=120, participant_uuid="p")
        )
    with pytest.raises(ProtocolError, match=f"redirect {status}"):
        async for _ in client.conference("123456").events(
            Token(token="t", expires=120, participant_uuid="p")
        ):
            pass
    assert len(script.seen) == 3
    assert recorder.seen == []


async def test_a_body_over_the_cap_is_refused_by_its_length(
    scripted: tuple[Scripted, InfinityClient],
) -> None:
    script, client = scripted
    script.answers = [_ok({"token": "t", "expires": "60", "pad": "x" * (2 * MAX_BODY_BYTES)})]
    with pytest.raises(ProtocolError, match="larger than"):
        await client.conference("123456").refresh_token(
            Token(token="t", expires=120, participant_uuid="p")
        )
    assert len(script.seen) == 1


async def test_a_chunked_body_over_the_cap_is_cut_while_reading(
    scripted: tuple[Scripted, InfinityClient],
) -> None:
    script, client = scripted
    script.stream_bytes = 100 * MAX_BODY_BYTES  # no Content-Length; far more than the cap
    with pytest.raises(ProtocolError, match="larger than"):
        await client.conference("123456").refresh_token(
            Token(token="t", expires=120, participant_uuid="p")
        )
    # The server stops writing once the kiosk hangs up; it never got near the whole body.
    assert script.streamed < 10 * MAX_BODY_BYTES


@pytest.mark.parametrize(
    "patch",
    [
        {"stun": 5},
        {"stun": "stun:x"},
        {"stun": [{"url": 5}]},
        {"stun": [5]},
        {"turn": 5},
        {"turn": [{"urls": [5]}]},
        {"turn": [{"urls": "turn:x", "username": 5}]},
        {"turn": [{"urls": "turn:x", "credential": ["c"]}]},
        {"direct_media": "yes"},
        {"use_relay_candidates_only": 1},
        {"role": 5},
        {"display_name": {}},
        {"service_type": []},
        {"expires": True},
        {"token": "x" * 20_000},
    ],
)
def test_every_token_field_is_type_checked(patch: dict[str, object]) -> None:
    result = json.loads((FIXTURES / "request_token_v36.json").read_text())["result"]
    result.update(patch)
    with pytest.raises(ProtocolError):
        parse_token(result)
