"""Events a real node sends that the reference node's room only emits when told to:
`conference_update.started`, `new_candidate` (with an end-of-candidates marker) and
`peer_disconnect`, through the node's real event stream into a joined Conference."""

from __future__ import annotations

import asyncio

from kiosk.pexip import Admitted, Conference, InfinityClient, Signal, Waiting
from kiosk.pexip.signals import PeerGone, RemoteCandidate
from kiosk.refnode import RefNode
from tests.support.ref_node import ALIAS, HOST_PIN
from tests.support.ref_node import node as node

CANDIDATE = "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"


async def _signals(conference: Conference, into: list[Signal]) -> None:
    async for signal in conference.signals():
        into.append(signal)


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0.01)


async def test_started_false_keeps_the_guest_waiting_until_the_host_starts_it(
    node: RefNode,
) -> None:
    async with InfinityClient(node.base_url, ["127.0.0.1"]) as client:
        guest = Conference(client, ALIAS)
        seen: list[Signal] = []
        await guest.join("Kari", HOST_PIN)  # in the conference proper at once
        task = asyncio.create_task(_signals(guest, seen))
        await _settle()
        assert guest.participant_uuid is not None
        room = node.room(ALIAS)
        room.broadcast("conference_update", {"locked": False, "started": False})
        await _settle()
        room.broadcast("conference_update", {"locked": False, "started": True})
        await _settle()
        # Whole history: in, then not started (waiting), then started (in again).
        assert seen == [Admitted(), Waiting(), Admitted()]
        await guest.leave()
        await asyncio.wait_for(task, 2)


async def test_trickled_candidates_become_signals_and_end_markers_do_not(
    node: RefNode,
) -> None:
    async with InfinityClient(node.base_url, ["127.0.0.1"]) as client:
        guest = Conference(client, ALIAS)
        seen: list[Signal] = []
        await guest.join("Kari", HOST_PIN)  # in the conference proper at once
        task = asyncio.create_task(_signals(guest, seen))
        await _settle()
        room = node.room(ALIAS)
        room.broadcast("new_candidate", {"candidate": CANDIDATE, "mid": "0", "ufrag": "u"})
        room.broadcast("new_candidate", {"candidate": "", "mid": "0", "ufrag": "u"})
        room.broadcast("peer_disconnect", None)
        await _settle()
        assert seen == [Admitted(), RemoteCandidate(CANDIDATE, "0"), PeerGone()]
        await guest.leave()
        await asyncio.wait_for(task, 2)
