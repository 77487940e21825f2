"""The reference node's host-only requests, as Pexip answers them: a guest may not lock,
unlock or admit (403), a host may."""

from __future__ import annotations

from typing import Any

import aiohttp

from kiosk.refnode import RefNode
from tests.support.ref_node import ALIAS, HOST_PIN
from tests.support.ref_node import node as node


async def _token(http: aiohttp.ClientSession, base: str, pin: str | None) -> dict[str, Any]:
    headers = {"pin": pin or "none"}  # as Pexip clients join as a guest of a PIN-less guest side
    async with http.post(
        f"{base}/request_token", json={"display_name": "Test"}, headers=headers
    ) as response:
        assert response.status == 200
        result: dict[str, Any] = (await response.json())["result"]
        return result


async def _post(http: aiohttp.ClientSession, url: str, token: str) -> tuple[int, object]:
    async with http.post(url, headers={"token": token}) as response:
        return response.status, (await response.json())["result"]


async def test_only_a_host_locks_unlocks_and_admits(node: RefNode) -> None:
    base = f"{node.base_url}/api/client/v2/conferences/{ALIAS}"
    async with aiohttp.ClientSession() as http:
        host = await _token(http, base, HOST_PIN)
        guest = await _token(http, base, None)
        assert (host["role"], guest["role"]) == ("HOST", "GUEST")
        guest_uuid = guest["participant_uuid"]
        answers = [
            await _post(http, f"{base}/lock", guest["token"]),
            await _post(http, f"{base}/unlock", guest["token"]),
            await _post(http, f"{base}/participants/{guest_uuid}/unlock", guest["token"]),
            await _post(http, f"{base}/lock", host["token"]),
            await _post(http, f"{base}/unlock", host["token"]),
            await _post(http, f"{base}/participants/{guest_uuid}/unlock", host["token"]),
        ]
    assert answers == [
        (403, "Only a host may lock the conference"),
        (403, "Only a host may unlock the conference"),
        (403, "Only a host may admit participants"),
        (200, True),
        (200, True),
        (200, True),
    ]
