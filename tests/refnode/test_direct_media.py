"""A direct-media room: the node carries no media and only passes SDP. The host's offer is
held until an admitted guest answers it; real aiortc peers on both sides, media straight
between them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from kiosk.pexip import (
    Admitted,
    Conference,
    InfinityClient,
    PeerGone,
    RemoteOffer,
    Signal,
    Waiting,
)
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.tracks import PatternTrack, ToneTrack, drain

ALIAS, HOST_PIN = "123456", "4321"
# A guest's offer is ignored in a direct-media room; any session description will do.
IGNORED_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture
async def node() -> AsyncIterator[RefNode]:
    refnode = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=True)], direct_answer_wait_s=20)
    await refnode.start()
    yield refnode
    await refnode.stop()


class Peer:
    """An aiortc peer sending the pattern and the tone, counting what it receives."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.video = [0]
        self.audio = [0]
        self._drains: list[asyncio.Task[None]] = []
        self.pc.addTrack(ToneTrack())
        self.pc.addTrack(PatternTrack())

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            counter = self.video if track.kind == "video" else self.audio
            self._drains.append(asyncio.ensure_future(drain(track, counter)))

    async def close(self) -> None:
        for task in self._drains:
            task.cancel()
        await self.pc.close()


async def _until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def _collect(conference: Conference, into: list[Signal]) -> None:
    async for signal in conference.signals():
        into.append(signal)


async def test_offer_goes_to_the_admitted_guest_and_its_answer_back_to_the_host(
    node: RefNode,
) -> None:
    client = InfinityClient(node.base_url, ["127.0.0.1"])
    host, guest = Conference(client, ALIAS), Conference(client, ALIAS)
    host_peer, guest_peer = Peer(), Peer()
    host_signals: list[Signal] = []
    guest_signals: list[Signal] = []
    collectors: list[asyncio.Task[None]] = []
    try:
        host_token = await host.join("Lege", pin=HOST_PIN)
        token = await guest.join("Kari", direct_media=True)
        collectors += [
            asyncio.create_task(_collect(host, host_signals)),
            asyncio.create_task(_collect(guest, guest_signals)),
        ]
        assert host.direct_media and guest.direct_media
        await host_peer.pc.setLocalDescription(await host_peer.pc.createOffer())
        held = asyncio.create_task(host.place_call(host_peer.pc.localDescription.sdp))
        assert await guest.place_call(IGNORED_OFFER) == ""
        # Waiting: nothing of the host's reaches the guest.
        await asyncio.sleep(0.5)
        assert not held.done()
        assert guest_signals == [Waiting()]

        step = client.conference(ALIAS).participant(token.participant_uuid)
        await step.unlock(host_token)
        await _until(lambda: len(guest_signals) == 3)
        offer = guest_signals[2]
        assert isinstance(offer, RemoteOffer)
        assert offer.sdp == host_peer.pc.localDescription.sdp
        await guest_peer.pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await guest_peer.pc.setLocalDescription(await guest_peer.pc.createAnswer())
        await guest.ack(guest_peer.pc.localDescription.sdp)

        answer = await asyncio.wait_for(held, 10)
        assert answer == guest_peer.pc.localDescription.sdp
        await host_peer.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await host.ack()
        await _until(lambda: min(host_peer.video[0], guest_peer.video[0]) >= 10)
        await _until(lambda: min(host_peer.audio[0], guest_peer.audio[0]) >= 25)

        await guest.leave()
        await _until(lambda: len(host_signals) == 2)
    finally:
        for peer in (host_peer, guest_peer):
            await peer.close()
        await host.leave()
        await guest.leave()
        await asyncio.wait_for(asyncio.gather(*collectors), 5)
        await client.close()

    assert guest_signals == [Waiting(), Admitted(), RemoteOffer(offer.sdp)]
    assert host_signals == [Admitted(), PeerGone()]
    journal = node.room(ALIAS).journal
    assert [what for what, who, _ in journal if who == token.participant_uuid] == [
        "join",
        "call",
        "admit",
        "offer",
        "hang_up",
        "leave",
    ]
    assert [what for what, who, _ in journal if who == host_token.participant_uuid] == [
        "join",
        "call",
        "answer",
        "peer_disconnect",
        "hang_up",
        "leave",
    ]


async def test_a_held_offer_without_a_guest_comes_back_ignored() -> None:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=True)], direct_answer_wait_s=0.3)
    await node.start()
    client = InfinityClient(node.base_url, ["127.0.0.1"])
    host = Conference(client, ALIAS)
    try:
        await host.join("Lege", pin=HOST_PIN)
        assert await host.place_call(IGNORED_OFFER) == ""
        assert host.call_uuid is not None
    finally:
        await host.leave()
        await client.close()
        await node.stop()
