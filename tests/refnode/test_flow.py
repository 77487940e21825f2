"""A whole consultation over loopback: the kiosk's Conference as guest, the practitioner bot
as host, real aiortc peers on both sides of the reference node."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.pexip import Admitted, Conference, InfinityClient, RemoteOffer, Signal, Waiting
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.refnode.tracks import PatternTrack, ToneTrack, drain
from tests.support.ref_node import ALIAS, HOST_PIN
from tests.support.ref_node import node as node


async def _collect(
    conference: Conference, into: list[tuple[Signal, int]], frames: list[int]
) -> None:
    async for signal in conference.signals():
        into.append((signal, frames[0]))


async def test_guest_waits_is_admitted_sees_the_clinician_and_leaves(node: RefNode) -> None:
    bot = PractitionerBot(node.base_url, ALIAS, HOST_PIN, admit_after_s=0.5)
    await bot.start()
    client = InfinityClient(node.base_url, ["127.0.0.1"])
    guest = Conference(client, ALIAS)
    pc = RTCPeerConnection()
    frames = [0]
    enough = asyncio.Event()

    async def watch(track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                await track.recv()
                frames[0] += 1
                if frames[0] >= 20:
                    enough.set()

    watchers: list[asyncio.Task[None]] = []

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        if track.kind == "video":
            watchers.append(asyncio.ensure_future(watch(track)))

    pc.addTrack(PatternTrack())
    pc.addTrack(ToneTrack())
    signals: list[tuple[Signal, int]] = []
    try:
        await guest.join("Kari")
        collector = asyncio.create_task(_collect(guest, signals, frames))
        await pc.setLocalDescription(await pc.createOffer())
        answer = await guest.place_call(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await guest.ack()
        await asyncio.wait_for(enough.wait(), 20)
        # Whole history, with how many clinician frames had arrived at each signal.
        assert signals == [(Waiting(), 0), (Admitted(), 0)]
        assert bot.admitted == [guest.participant_uuid]
        assert await _eventually(lambda: bot.video_frames_received >= 10)
        assert await _eventually(lambda: bot.audio_frames_received >= 10)
        uuid = guest.participant_uuid
        await guest.leave()
        await asyncio.wait_for(bot.guest_left.wait(), 5)
        assert bot.departed == [uuid]
        await asyncio.wait_for(collector, 2)
        assert [s for s, _ in signals] == [Waiting(), Admitted()]
        assert [what for what, who, _ in node.room(ALIAS).journal if who == uuid] == [
            "join",
            "call",
            "admit",
            "hang_up",
            "leave",
        ]
    finally:
        for task in watchers:
            task.cancel()
        await pc.close()
        await client.close()
        await bot.leave()


async def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return bool(check())


async def test_in_a_direct_media_room_the_bot_offers_to_the_guest_it_admits() -> None:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=True)])
    await node.start()
    bot = PractitionerBot(node.base_url, ALIAS, HOST_PIN, admit_after_s=0.2)
    await bot.start()
    client = InfinityClient(node.base_url, ["127.0.0.1"])
    guest = Conference(client, ALIAS)
    pc = RTCPeerConnection()
    pc.addTrack(ToneTrack())
    pc.addTrack(PatternTrack())
    frames = [0]
    drains: list[asyncio.Task[None]] = []
    pc.on("track", lambda t: drains.append(asyncio.ensure_future(drain(t, frames))))
    signals: list[Signal] = []
    try:
        await guest.join("Kari", direct_media=True)
        ignored = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        assert await guest.place_call(ignored) == ""
        iterator = aiter(guest.signals())
        async with asyncio.timeout(10):
            while not signals or not isinstance(signals[-1], RemoteOffer):
                signals.append(await anext(iterator))
        offer = signals[-1]
        assert isinstance(offer, RemoteOffer)
        await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        await guest.ack(pc.localDescription.sdp)
        assert await _eventually(lambda: frames[0] >= 30, 10)
        assert await _eventually(lambda: bot.video_frames_received >= 10, 10)
        await guest.leave()
        await asyncio.wait_for(bot.guest_left.wait(), 5)
    finally:
        for task in drains:
            task.cancel()
        await pc.close()
        await client.close()
        await bot.leave()
        await node.stop()
    assert signals == [Waiting(), Admitted(), RemoteOffer(offer.sdp)]
    assert bot.admitted == bot.departed == [guest.participant_uuid]
