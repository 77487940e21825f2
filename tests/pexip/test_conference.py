"""Conference against the reference node: PIN flow, signal histories, token refresh on a
manual clock, event-stream loss and return, removal, waiting-room timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from kiosk.base.clock import ManualClock
from kiosk.pexip import (
    Admitted,
    Conference,
    InfinityClient,
    PinRequired,
    Removed,
    Signal,
    StreamBack,
    StreamLost,
    TokenLost,
    Waiting,
)
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.room import WAITING_TIMEOUT_REASON

ALIAS, HOST_PIN, GUEST_ROOM, GUEST_PIN = "123456", "4321", "654321", "1111"


async def _until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def _history(conference: Conference, timeout: float = 5.0) -> list[Signal]:
    """All signals until the stream ends (after a final signal or leave)."""
    return [s async for s in _bounded(conference, timeout)]


async def _bounded(conference: Conference, timeout: float) -> AsyncIterator[Signal]:
    iterator = conference.signals().__aiter__()
    while True:
        try:
            yield await asyncio.wait_for(iterator.__anext__(), timeout)
        except StopAsyncIteration:
            return


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


async def test_guest_waits_then_is_admitted_then_removed_by_host(
    client: InfinityClient,
) -> None:
    host = Conference(client, ALIAS)
    guest = Conference(client, ALIAS)
    await host.join("Lege", pin=HOST_PIN)
    token = await guest.join("Kari")
    assert (token.role, token.current_service_type) == ("GUEST", "waiting_room")
    host_token = host.token
    assert host_token is not None
    await _until(lambda: token.participant_uuid in host.roster)
    await client.conference(ALIAS).participant(token.participant_uuid).unlock(host_token)
    await _until(lambda: Admitted() in guest.history)
    await client.conference(ALIAS).participant(token.participant_uuid).disconnect(host_token)
    assert await _history(guest) == [
        Waiting(),
        Admitted(),
        Removed("Disconnected by remote host"),
    ]
    assert host.history == (Admitted(),)
    await guest.leave()
    await host.leave()


async def test_a_guest_pin_room_raises_pin_required(client: InfinityClient) -> None:
    with pytest.raises(PinRequired):
        await Conference(client, GUEST_ROOM).join("Kari")
    guest = Conference(client, GUEST_ROOM)
    await guest.join("Kari", pin=GUEST_PIN)
    await guest.leave()
    assert await _history(guest) == [Waiting()]


async def test_token_is_refreshed_at_half_life(client: InfinityClient, node: RefNode) -> None:
    clock = ManualClock()
    conference = Conference(client, ALIAS, clock=clock)
    first = await conference.join("Lege", pin=HOST_PIN)
    await clock.advance(59)
    await asyncio.sleep(0.1)
    assert conference.token == first
    await clock.advance(1)
    await _until(lambda: conference.token != first)
    second = conference.token
    assert second is not None and second.participant_uuid == first.participant_uuid
    assert node.room(ALIAS).by_token(first.token) is None
    await clock.advance(60)
    await _until(lambda: conference.token != second)
    await conference.leave()
    assert node.room(ALIAS).participants == {}
    assert await _history(conference) == [Admitted()]


async def test_stream_drop_reconnects_and_resyncs(client: InfinityClient, node: RefNode) -> None:
    clock = ManualClock()
    conference = Conference(client, ALIAS, clock=clock)
    await conference.join("Kari")
    await _until(lambda: conference.participant_uuid in conference.roster)
    node.drop_event_streams()
    await _until(lambda: StreamLost() in conference.history)
    await clock.advance(0.5)  # the first backoff
    await _until(lambda: StreamBack() in conference.history)
    assert conference.roster.keys() == {conference.participant_uuid}
    await conference.leave()
    assert await _history(conference) == [Waiting(), StreamLost(), StreamBack()]


async def test_token_released_elsewhere_is_token_lost(client: InfinityClient) -> None:
    clock = ManualClock()
    conference = Conference(client, ALIAS, clock=clock)
    token = await conference.join("Kari")
    await _until(lambda: conference.participant_uuid in conference.roster)
    await client.conference(ALIAS).release_token(token)
    await _until(lambda: StreamLost() in conference.history)
    await clock.advance(0.5)
    assert await _history(conference) == [
        Waiting(),
        StreamLost(),
        TokenLost("the node refused the token on the event stream"),
    ]
    await conference.leave()  # best effort on a dead token: must not raise


async def test_waiting_room_timeout_removes_the_guest() -> None:
    clock = ManualClock()
    node = RefNode([RoomSpec(ALIAS, HOST_PIN)], clock=clock, token_lifetime_s=10_000)
    base_url = await node.start()
    try:
        async with InfinityClient(base_url, ["127.0.0.1"]) as client:
            guest = Conference(client, ALIAS, clock=clock)
            token = await guest.join("Kari")
            await _until(lambda: token.participant_uuid in guest.roster)
            await clock.advance(899)
            await asyncio.sleep(0.1)
            assert guest.history == (Waiting(),)
            await clock.advance(1)
            assert await _history(guest) == [Waiting(), Removed(WAITING_TIMEOUT_REASON)]
            assert node.room(ALIAS).journal == [
                ("join", token.participant_uuid, "waiting_room"),
                ("leave", token.participant_uuid, "waiting timeout"),
            ]
            await guest.leave()
    finally:
        await node.stop()


async def test_leave_never_raises_when_the_node_is_gone(node: RefNode) -> None:
    client = InfinityClient(node.base_url, ["127.0.0.1"], retries=0)
    conference = Conference(client, ALIAS, clock=ManualClock())
    await conference.join("Kari")
    await node.stop()
    await conference.leave()
    await client.close()
