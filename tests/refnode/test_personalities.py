"""The reference node switched into behaviours of a real Pexip node, met by the kiosk's
Conference and a real aiortc peer: trickled candidates, gateway bursts, slow answers."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from kiosk.pexip import Conference, InfinityClient, Signal
from kiosk.pexip.signals import RemoteCandidate, Waiting
from kiosk.refnode import RefNode
from kiosk.refnode.personality import Personality, split_candidates
from kiosk.refnode.tracks import PatternTrack, ToneTrack
from tests.support.ref_node import ALIAS
from tests.support.ref_node import node as node


def test_split_candidates_takes_every_candidate_out_with_its_mid_and_credentials() -> None:
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=ice-ufrag:U0\r\na=ice-pwd:P0\r\n"
        "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=ice-ufrag:U1\r\na=ice-pwd:P1\r\n"
        "a=candidate:2 1 udp 2130706431 127.0.0.1 5002 typ host\r\n"
    )
    stripped, candidates = split_candidates(sdp)
    assert "candidate" not in stripped and "a=mid:1" in stripped
    assert [(c.candidate, c.mid, c.ufrag, c.pwd) for c in candidates] == [
        ("candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host", "0", "U0", "P0"),
        ("candidate:2 1 udp 2130706431 127.0.0.1 5002 typ host", "1", "U1", "P1"),
    ]


async def _joined(node: RefNode) -> tuple[InfinityClient, Conference]:
    client = InfinityClient(node.base_url, ["127.0.0.1"], backoff_s=0.01)
    guest = Conference(client, ALIAS)
    await guest.join("Kari")
    return client, guest


async def test_a_trickling_node_answers_without_candidates_and_sends_them_as_events(
    node: RefNode,
) -> None:
    node.personality = Personality(trickle_ice=True)
    client, guest = await _joined(node)
    pc = RTCPeerConnection()
    pc.addTrack(ToneTrack())
    pc.addTrack(PatternTrack())
    signals: list[Signal] = []
    try:
        await pc.setLocalDescription(await pc.createOffer())
        answer = await guest.place_call(pc.localDescription.sdp)
        assert "a=candidate:" not in answer
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await guest.ack()
        async with asyncio.timeout(5):
            async for signal in guest.signals():
                signals.append(signal)
                if isinstance(signal, RemoteCandidate):
                    candidate = candidate_from_sdp(signal.candidate.removeprefix("candidate:"))
                    candidate.sdpMid = signal.mid
                    await pc.addIceCandidate(candidate)
                    break
        assert signals[0] == Waiting() and isinstance(signals[-1], RemoteCandidate)
        assert guest.token is not None
    finally:
        await pc.close()
        await guest.leave()
        await client.close()


@pytest.mark.parametrize("status", [502])
async def test_a_gateway_burst_still_gives_exactly_one_participant(
    node: RefNode, status: int
) -> None:
    node.personality = Personality(gateway_errors=3, gateway_status=status)
    client, guest = await _joined(node)
    try:
        assert node.personality.gateway_errors == 0
        assert [p.uuid for p in node.room(ALIAS).participants.values()] == [guest.participant_uuid]
    finally:
        await guest.leave()
        await client.close()


async def test_a_504_on_request_token_is_not_retried_so_no_second_participant(
    node: RefNode,
) -> None:
    node.personality = Personality(gateway_errors=1, gateway_status=504)
    client = InfinityClient(node.base_url, ["127.0.0.1"], backoff_s=0.01)
    try:
        with pytest.raises(Exception, match="504"):
            await Conference(client, ALIAS).join("Kari")
        assert node.room(ALIAS).participants == {}
    finally:
        await client.close()


async def test_slow_answers_are_waited_for(node: RefNode) -> None:
    node.personality = Personality(calls_delay_s=1.0, ack_delay_s=1.0)
    client, guest = await _joined(node)
    pc = RTCPeerConnection()
    pc.addTrack(ToneTrack())
    try:
        await pc.setLocalDescription(await pc.createOffer())
        started = time.monotonic()
        answer = await guest.place_call(pc.localDescription.sdp)
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await guest.ack()
        assert time.monotonic() - started >= 2.0
    finally:
        await pc.close()
        await guest.leave()
        await client.close()
