"""What the node can do to a joined Conference besides admitting it: refuse a refresh,
prompt one, drop the call, move it to another room; and what the token tells about ICE."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from kiosk.base.clock import ManualClock
from kiosk.pexip import (
    Admitted,
    CallDropped,
    Conference,
    InfinityClient,
    InvalidPin,
    Maintenance,
    NoSuchConference,
    Referred,
    Signal,
    TokenLost,
    Waiting,
)
from kiosk.pexip.answers import StunServer, TurnServer
from kiosk.refnode import RefNode, RoomSpec

ALIAS, OTHER, HOST_PIN = "123456", "654321", "4321"
SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
STUN = [{"url": "stun:stun.example.org:3478"}]
TURN = [{"urls": ["turn:turn.example.org:3478?transport=udp"], "username": "u", "credential": "c"}]


@pytest.fixture
async def node() -> AsyncIterator[RefNode]:
    refnode = RefNode(
        [RoomSpec(ALIAS, HOST_PIN, direct_media=True), RoomSpec(OTHER, HOST_PIN)],
        stun=STUN,
        turn=TURN,
    )
    await refnode.start()
    yield refnode
    await refnode.stop()


@pytest.fixture
async def client(node: RefNode) -> AsyncIterator[InfinityClient]:
    async with InfinityClient(node.base_url, ["127.0.0.1"]) as c:
        yield c


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def _all(conference: Conference) -> list[Signal]:
    async with asyncio.timeout(5):
        return [s async for s in conference.signals()]


async def test_a_refused_refresh_loses_the_token(client: InfinityClient, node: RefNode) -> None:
    clock = ManualClock()
    conference = Conference(client, ALIAS, clock=clock)
    await conference.join("Lege", pin=HOST_PIN)
    node.refuse_refresh = True
    await clock.advance(60)
    assert await _all(conference) == [Admitted(), TokenLost("the node refused the token")]
    await conference.leave()


async def test_the_refresh_token_event_refreshes_at_once(
    client: InfinityClient, node: RefNode
) -> None:
    conference = Conference(client, ALIAS, clock=ManualClock())
    first = await conference.join("Lege", pin=HOST_PIN)
    await _until(lambda: bool(node.room(ALIAS).participants[first.participant_uuid].streams))
    node.prompt_refresh(ALIAS)
    await _until(lambda: conference.token != first)
    assert node.room(ALIAS).by_token(first.token) is None
    await conference.leave()
    assert await _all(conference) == [Admitted()]


async def test_a_dropped_call_is_signalled_and_the_token_stays(
    client: InfinityClient, node: RefNode
) -> None:
    conference = Conference(client, ALIAS)
    token = await conference.join("Lege", pin=HOST_PIN, direct_media=True)
    await _until(lambda: bool(node.room(ALIAS).participants[token.participant_uuid].streams))
    placing = asyncio.create_task(conference.place_call(SDP))  # held: no guest answers
    await _until(lambda: node.room(ALIAS).participants[token.participant_uuid].leg is not None)
    await node.drop_call(ALIAS, token.participant_uuid, "Media timeout")
    assert await placing == ""
    await _until(lambda: CallDropped("Media timeout") in conference.history)
    assert conference.call_uuid is None and conference.token is not None
    await conference.leave("patient ended the call")
    assert await _all(conference) == [Admitted(), CallDropped("Media timeout")]
    journal = node.room(ALIAS).journal
    assert journal[-1] == (
        "leave",
        token.participant_uuid,
        "released token: patient ended the call",
    )


async def test_refer_moves_the_guest_past_the_other_rooms_waiting_room(
    client: InfinityClient, node: RefNode
) -> None:
    guest = Conference(client, ALIAS)
    token = await guest.join("Kari")
    await _until(lambda: bool(node.room(ALIAS).participants[token.participant_uuid].streams))
    node.refer(ALIAS, token.participant_uuid, OTHER)
    history = await _all(guest)
    assert [type(s) for s in history] == [Waiting, Referred]
    referred = history[-1]
    assert isinstance(referred, Referred) and referred.alias == OTHER
    assert OTHER not in repr(referred) and referred.token not in repr(referred)
    await guest.leave()

    moved = Conference(client, referred.alias)
    moved_token = await moved.join("Kari", one_time_token=referred.token)
    assert (moved_token.role, moved_token.current_service_type) == ("GUEST", "conference")
    await moved.leave()
    # In the conference, but no host has started it and we left before the node said so:
    # never admitted (conference_update.started decides).
    assert await _all(moved) == []
    # One time only.
    with pytest.raises(InvalidPin):
        await Conference(client, OTHER).join("Kari", one_time_token=referred.token)
    assert node.room(ALIAS).participants == {} and node.room(OTHER).participants == {}


async def test_stun_turn_and_direct_media_come_from_the_token(client: InfinityClient) -> None:
    conference = Conference(client, ALIAS)
    token = await conference.join("Kari", direct_media=True)
    assert conference.direct_media is True
    assert token.stun == (StunServer("stun:stun.example.org:3478"),)
    assert token.turn == (TurnServer(("turn:turn.example.org:3478?transport=udp",), "u", "c"),)
    assert "'c'" not in repr(token.turn[0])  # the credential stays out of logs
    await conference.leave()
    other = Conference(client, OTHER)
    await other.join("Kari")
    assert other.direct_media is False
    await other.leave()


async def test_joining_an_unknown_room_or_a_node_in_maintenance(
    client: InfinityClient, node: RefNode
) -> None:
    with pytest.raises(NoSuchConference):
        await Conference(client, "999999").join("Kari")
    node.maintenance = True
    with pytest.raises(Maintenance):
        await client.status()
    with pytest.raises(Maintenance):
        await Conference(client, ALIAS).join("Kari")
    node.maintenance = False
    await client.status()
