"""The kiosk's reach into aiortc (kiosk/media/aiortc_hooks.py), on real peer connections: each
private attribute is where the hooks expect it, and each mend does what it says."""

from __future__ import annotations

import asyncio
import random

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.jitterbuffer import JitterBuffer
from aiortc.rtp import RtpPacket

from kiosk.media import aiortc_hooks as hooks


def _packets(loss: float, count: int = 3000, seed: int = 7) -> list[RtpPacket]:
    rng = random.Random(seed)
    kept = []
    for n in range(count):
        if rng.random() < loss:
            continue
        packet = RtpPacket(sequence_number=n & 0xFFFF, timestamp=n * 960)
        packet._data = b"\x01"  # type: ignore[attr-defined]
        kept.append(packet)
    return kept


def _frames_out(buffer: JitterBuffer, packets: list[RtpPacket]) -> int:
    return sum(buffer.add(packet)[1] is not None for packet in packets)


def test_the_play_through_buffer_hands_on_what_arrives_where_aiortcs_loses_most() -> None:
    for loss in (0.1, 0.3):
        packets = _packets(loss)
        ours = hooks.PlayThroughJitterBuffer()
        assert _frames_out(ours, packets) >= len(packets) - ours.capacity
        assert ours.skipped > 0.8 * loss * 3000
        # aiortc's own buffer, for the record of why this one exists.
        assert _frames_out(JitterBuffer(capacity=16, prefetch=4), packets) < 0.7 * len(packets)


def test_the_play_through_buffer_holds_one_packet_also_after_an_outage() -> None:
    # Every packet held is 20 ms of mouth-to-ear delay, and after an outage the first sound
    # waits for as many: packet n plays when n + 1 arrives, before and after a 15 s gap.
    buffer = hooks.PlayThroughJitterBuffer()
    handed: list[tuple[int, int]] = []
    for n in [*range(10), *range(760, 770)]:
        packet = RtpPacket(sequence_number=n, timestamp=n * 960)
        packet._data = n.to_bytes(2, "big")  # type: ignore[attr-defined]
        frame = buffer.add(packet)[1]
        if frame is not None:
            handed.append((n, int.from_bytes(frame.data, "big")))
    assert handed == [(n, n - 1) for n in [*range(1, 10), *range(761, 770)]]
    assert buffer.skipped == 0


def test_a_late_packet_still_gets_its_turn() -> None:
    buffer = hooks.PlayThroughJitterBuffer()
    order = [0, 1, 3, 2, 4, 5, 6]  # packet 2 comes one packet late
    out = []
    for n in order:
        packet = RtpPacket(sequence_number=n, timestamp=n * 960)
        packet._data = bytes([n])  # type: ignore[attr-defined]
        frame = buffer.add(packet)[1]
        if frame is not None:
            out.append(frame.data[0])
    assert out == [0, 1, 2, 3, 4, 5]  # in order, the late one included; 6 waits
    assert buffer.skipped == 0


def _picture_packets(first_seq: int, pictures: list[int], marked: bool) -> list[RtpPacket]:
    """Video packets: `pictures[i]` packets for picture i, the last one marked if `marked`."""
    packets, seq = [], first_seq
    for index, count in enumerate(pictures):
        for part in range(count):
            packet = RtpPacket(
                sequence_number=seq & 0xFFFF,
                timestamp=index * 6000,
                marker=int(marked and part == count - 1),
            )
            packet._data = bytes([index, part])  # type: ignore[attr-defined]
            packets.append(packet)
            seq += 1
    return packets


def _handed_on(buffer: JitterBuffer, packets: list[RtpPacket]) -> list[tuple[int, int]]:
    """(index of the packet whose arrival handed a picture on, that picture's index)."""
    out = []
    for at, packet in enumerate(packets):
        frame = buffer.add(packet)[1]
        if frame is not None:
            out.append((at, frame.data[0]))
    return out


def test_a_marked_picture_goes_to_the_decoder_with_its_last_packet() -> None:
    packets = _picture_packets(65530, [3, 1, 4, 2], marked=True)  # wraps past 65535
    out = _handed_on(hooks.MarkerJitterBuffer(), packets)
    assert out == [(2, 0), (3, 1), (7, 2), (9, 3)]
    # aiortc's buffer waits for the next picture's first packet, and keeps the last one.
    assert _handed_on(JitterBuffer(capacity=512, is_video=True), packets) == [
        (3, 0),
        (4, 1),
        (8, 2),
    ]
    # Unmarked, ours does as aiortc's does.
    unmarked = _picture_packets(100, [3, 1, 4, 2], marked=False)
    assert _handed_on(hooks.MarkerJitterBuffer(), unmarked) == [(3, 0), (4, 1), (8, 2)]


def test_a_marked_picture_waits_for_a_late_packet_and_keeps_its_bytes_in_order() -> None:
    packets = _picture_packets(0, [3, 2], marked=True)
    late = [packets[0], packets[2], packets[3], packets[1], packets[4]]  # 1 comes third
    buffer = hooks.MarkerJitterBuffer()
    frames = [buffer.add(packet)[1] for packet in late]
    assert [f is not None for f in frames] == [False, False, False, True, True]
    first, second = frames[3], frames[4]
    assert first is not None and first.data == bytes([0, 0, 0, 1, 0, 2])
    assert second is not None and second.data == bytes([1, 0, 1, 1])


async def test_every_hook_finds_its_place_on_a_real_peer_connection() -> None:
    pc = RTCPeerConnection()
    try:
        audio = pc.addTransceiver("audio")
        video = pc.addTransceiver("video")
        assert isinstance(hooks.play_through_losses(audio.receiver), hooks.PlayThroughJitterBuffer)
        assert isinstance(hooks.hand_on_whole_pictures(video.receiver), hooks.MarkerJitterBuffer)
        hooks.restart_video_jitter_buffer(video.receiver)
        hooks.encode_speech(audio.sender)
        seen: list[float | None] = []
        hooks.on_rtcp(video.sender, lambda _packet, rtt: seen.append(rtt))
        hooks.on_rtp(video.receiver, lambda _packet: None)
        assert callable(video.receiver._send_rtcp_pli)
    finally:
        await pc.close()


async def test_the_speech_encoder_is_chosen_only_for_opus() -> None:
    pc = RTCPeerConnection()
    try:
        sender = pc.addTransceiver("audio").sender
        hooks.encode_speech(sender)
        chosen: list[object] = []

        async def fake_send(parameters: object) -> None:
            chosen.append(sender._RTCRtpSender__encoder)

        # What `send` would start with: only the encoder choice is under test here.
        original = sender.send
        sender.send = fake_send  # type: ignore[method-assign]
        hooks.encode_speech(sender)
        opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2)
        pcmu = RTCRtpCodecParameters(mimeType="audio/PCMU", clockRate=8000)
        await sender.send(type("P", (), {"codecs": [opus]})())
        sender._RTCRtpSender__encoder = None
        await sender.send(type("P", (), {"codecs": [pcmu]})())
        assert isinstance(chosen[0], hooks.SpeechOpusEncoder)
        assert chosen[1] is None
        sender.send = original  # type: ignore[method-assign]
    finally:
        await pc.close()


def test_the_speech_encoder_spends_bits_on_fec() -> None:
    """Same voice, same bit rate: with in-band FEC the primary coding gets fewer bytes."""

    def encoded_bytes(encoder: object) -> int:
        total = 0
        t = np.arange(960 * 100) / 48000
        voice = (np.sin(2 * np.pi * 180 * t) * 9000 * (1 + np.sin(2 * np.pi * 4 * t))).astype(
            np.int16
        )
        for n in range(100):
            chunk = np.repeat(voice[n * 960 : (n + 1) * 960], 2).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="stereo")
            frame.sample_rate = 48000
            frame.pts = n * 960
            payloads, _ = encoder.encode(frame)  # type: ignore[attr-defined]
            total += sum(len(p) for p in payloads)
        return total

    from aiortc.codecs.opus import OpusEncoder

    plain = OpusEncoder()
    plain.codec.bit_rate = hooks.SPEECH_BIT_RATE
    assert encoded_bytes(hooks.SpeechOpusEncoder()) != encoded_bytes(plain)


async def _connected_pair() -> tuple[RTCPeerConnection, RTCPeerConnection]:
    near, far = RTCPeerConnection(), RTCPeerConnection()
    near.addTransceiver("audio")
    await near.setLocalDescription(await near.createOffer())
    await far.setRemoteDescription(near.localDescription)
    await far.setLocalDescription(await far.createAnswer())
    await near.setRemoteDescription(far.localDescription)
    for _ in range(200):
        if near.connectionState == far.connectionState == "connected":
            return near, far
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected both connected, got {near.connectionState}")


def _consent_task(pc: RTCPeerConnection) -> object:
    ice = pc.getTransceivers()[0].sender.transport.transport
    return ice._connection._query_consent_task


async def test_consent_is_checked_at_once_and_its_periodic_checks_start_over() -> None:
    near, far = await _connected_pair()
    try:
        before = _consent_task(near)
        assert before is not None
        assert await hooks.refresh_consent(near)
        after = _consent_task(near)
        assert after is not None and after is not before
        await asyncio.sleep(0)
        assert before.done()  # type: ignore[attr-defined]
        # A far end that is gone does not answer: no refresh, the periodic checks go on.
        await far.close()
        assert not await hooks.refresh_consent(near, retransmissions=0)
        assert _consent_task(near) is after
    finally:
        await near.close()
        await far.close()
