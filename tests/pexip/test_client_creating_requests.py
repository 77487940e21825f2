"""Requests that create something on the node are never retried in a way that could create it
twice; `update` with `offer_ignored` means "wait for the far end's offer"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from kiosk.pexip.answers import Token
from kiosk.pexip.client import InfinityClient
from kiosk.pexip.errors import NodeUnreachable

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = Token(token="t", expires=120, participant_uuid="p")
OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


class Script:
    """Answers each request with the next (status, body, delay) and records the paths."""

    def __init__(self) -> None:
        self.answers: list[tuple[int, str, float]] = [(200, "{}", 0.0)]
        self.seen: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request.path.rsplit("/", 1)[-1])
        status, text, delay = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        await asyncio.sleep(delay)
        return web.Response(status=status, text=text, content_type="application/json")


@pytest.fixture
async def scripted() -> AsyncIterator[tuple[Script, InfinityClient]]:
    script = Script()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", script.handle)
    async with TestServer(app, host="127.0.0.1") as server:
        client = InfinityClient(str(server.make_url("/")), ["127.0.0.1"], backoff_s=0.01)
        async with client:
            yield script, client


async def test_update_with_offer_ignored_means_wait_for_the_offer(
    scripted: tuple[Script, InfinityClient],
) -> None:
    script, client = scripted
    body = (FIXTURES / "update_response_direct_media_offer_ignored.json").read_text()
    script.answers = [(200, body, 0.0)]
    call = client.conference("123456").participant("p").call("c")
    assert await call.update(TOKEN, OFFER) == ""


async def test_request_token_and_calls_are_not_retried_after_a_504(
    scripted: tuple[Script, InfinityClient],
) -> None:
    # The node may have created the participant (or call) behind a gateway that gave up.
    script, client = scripted
    script.answers = [(504, "", 0.0)]
    with pytest.raises(NodeUnreachable):
        await client.conference("123456").request_token("Kari")
    with pytest.raises(NodeUnreachable):
        await client.conference("123456").participant("p").calls(TOKEN, OFFER)
    assert script.seen == ["request_token", "calls"]


async def test_other_requests_are_still_retried_after_a_504(
    scripted: tuple[Script, InfinityClient],
) -> None:
    script, client = scripted
    script.answers = [(504, "", 0.0), (200, json.dumps({"result": True}), 0.0)]
    await client.conference("123456").participant("p").call("c").ack(TOKEN)
    assert script.seen == ["ack", "ack"]


async def test_request_token_is_retried_after_a_502(
    scripted: tuple[Script, InfinityClient],
) -> None:
    script, client = scripted
    good = (FIXTURES / "request_token_v36.json").read_text()
    script.answers = [(502, "", 0.0), (502, "", 0.0), (200, good, 0.0)]
    token = await client.conference("123456").request_token("Kari")
    assert token.participant_uuid == "614221f4-3a5c-4d1f-8df6-3ae27188df54"
    assert script.seen == ["request_token"] * 3


async def test_a_creating_request_is_not_retried_after_a_read_timeout(
    scripted: tuple[Script, InfinityClient],
) -> None:
    script, client = scripted
    script.answers = [(200, "{}", 2.0)]
    with pytest.raises(NodeUnreachable, match="after 1 tries"):
        await client._request(
            "POST", "/conferences/123456/request_token", body={}, timeout_s=0.2, creates=True
        )
    assert script.seen == ["request_token"]
