"""HTTPS with verification on: the reference node serves a throw-away certificate from a
throw-away CA; the client trusts it only through `ca_file`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kiosk.pexip import Admitted, Conference, InfinityClient, PexipError, UntrustedNode, Waiting
from kiosk.refnode import RefNode, RoomSpec
from tests.fleet.tls import make_server_tls

ALIAS, HOST_PIN = "123456", "4321"


@pytest.fixture
async def https_node(tmp_path: Path) -> AsyncIterator[tuple[RefNode, str]]:
    context, ca_file = make_server_tls(tmp_path)
    node = RefNode([RoomSpec(ALIAS, HOST_PIN)])
    await node.start(ssl_context=context)
    yield node, str(ca_file)
    await node.stop()


async def test_a_node_signed_by_the_given_ca_is_trusted(https_node: tuple[RefNode, str]) -> None:
    node, ca_file = https_node
    assert node.base_url.startswith("https://127.0.0.1:")
    async with InfinityClient(node.base_url, ["127.0.0.1"], ca_file=ca_file) as client:
        await client.status()
        host, guest = Conference(client, ALIAS), Conference(client, ALIAS)
        await host.join("Lege", pin=HOST_PIN)
        token = await guest.join("Kari")
        assert host.token is not None
        await client.conference(ALIAS).participant(token.participant_uuid).unlock(host.token)
        # The event stream runs over the same verified connection.
        iterator = aiter(guest.signals())
        async with asyncio.timeout(5):
            signals = [await anext(iterator) for _ in range(2)]
        assert signals == [Waiting(), Admitted()]
        await guest.leave()
        await host.leave()


async def test_without_the_ca_the_node_is_untrusted_and_not_retried(
    https_node: tuple[RefNode, str],
) -> None:
    node, _ = https_node
    async with InfinityClient(node.base_url, ["127.0.0.1"], retries=3) as client:
        with pytest.raises(UntrustedNode, match="expected a certificate that verifies"):
            await client.status()
        with pytest.raises(UntrustedNode):
            await client.conference(ALIAS).request_token("Kari", pin="")
    assert node.room(ALIAS).participants == {}


async def test_a_certificate_for_another_name_is_untrusted(
    https_node: tuple[RefNode, str],
) -> None:
    node, ca_file = https_node
    # Same node, same CA, but reached as "localhost": the certificate names 127.0.0.1 only.
    url = node.base_url.replace("127.0.0.1", "localhost")
    async with InfinityClient(url, ["localhost"], ca_file=ca_file) as client:
        with pytest.raises(UntrustedNode):
            await client.status()


async def test_plain_http_to_an_https_node_never_gets_a_token(
    https_node: tuple[RefNode, str],
) -> None:
    node, _ = https_node
    plain = node.base_url.replace("https://", "http://")
    async with InfinityClient(plain, ["127.0.0.1"], retries=0) as client:
        with pytest.raises(PexipError):
            await client.conference(ALIAS).request_token("Kari", pin="")
    assert node.room(ALIAS).participants == {}
