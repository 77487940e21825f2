"""The places where the kiosk reaches inside aiortc, all in one module.

aiortc has no public API for what a call over a bad network needs: a jitter buffer that plays
through a lost audio packet, a video jitter buffer that hands on a picture as soon as it is
whole and can be restarted after a gap, an Opus encoder set
for speech with in-band FEC, a keyframe request, the last receiver report's round trip. Each
function here names the private attribute it uses; `tests/media/test_aiortc_hooks.py` checks
every one of them on a real peer connection, so an aiortc release that moves one fails the
tests instead of silently turning a mend off. Tested with aiortc 1.16.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aioice import stun
from aiortc import RTCPeerConnection
from aiortc.codecs.opus import OpusEncoder
from aiortc.jitterbuffer import JitterBuffer, JitterFrame
from aiortc.rtcrtpreceiver import RTCRtpReceiver
from aiortc.rtcrtpsender import RTT_ALPHA, RTCRtpSender
from aiortc.utils import uint16_add

log = logging.getLogger(__name__)

_RECEIVER_JITTER = "_RTCRtpReceiver__jitter_buffer"
_RECEIVER_NACKS = "_RTCRtpReceiver__nack_generator"
_SENDER_ENCODER = "_RTCRtpSender__encoder"
_SENDER_RTT = "_RTCRtpSender__rtt"
_ICE_CONNECTION = "_connection"  # RTCIceTransport -> aioice.Connection
_CONSENT_TASK = "_query_consent_task"
_NOMINATED = "_nominated"

# Speech needs far less than aiortc's 96 kb/s, and below about 40 kb/s Opus codes speech in
# its SILK layers, the only ones that carry in-band FEC (RFC 6716 §2.1.7).
SPEECH_BIT_RATE = 32_000
EXPECTED_LOSS_PCT = 10


class SpeechOpusEncoder(OpusEncoder):
    """aiortc's Opus encoder for a voice call over a lossy network: 32 kb/s, in-band FEC on,
    so a far end that loses one packet rebuilds it from the next."""

    def __init__(self) -> None:
        super().__init__()
        self.codec.bit_rate = SPEECH_BIT_RATE
        self.codec.options = {
            "application": "voip",
            "fec": "1",
            "packet_loss": str(EXPECTED_LOSS_PCT),
        }


class PlayThroughJitterBuffer(JitterBuffer):
    """aiortc's audio jitter buffer hands nothing on while a packet is missing among the next
    few, until 16 newer ones wait, and then throws away what it holds: under 30 % loss most of
    the sound never plays. An audio packet is a whole frame, so this one hands on the oldest
    packet once `prefetch` wait, and steps over a lost one at its head once `skip_after`
    newer ones wait (a late packet gets that long to arrive); the speaker conceals the step
    (`tracks.SpeakerSink`).

    Holding packets here is pure delay: each one held puts 20 ms between the far end and the
    speaker for the whole call, and after an outage the first sound waits for that many
    packets. Jitter is absorbed by the speaker's own buffer, which grows by what a late
    packet leaves unplayed. So this holds one packet, the least that lets a packet overtaken
    by the next still play in order (aiortc holds four)."""

    def __init__(self, capacity: int = 16, prefetch: int = 2, skip_after: int = 2) -> None:
        super().__init__(capacity=capacity, prefetch=prefetch)
        self.skip_after = skip_after
        self.skipped = 0

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        if self._origin is None:
            return None
        waiting = sum(packet is not None for packet in self._packets)
        head = self._packets[self._origin % self.capacity]
        while head is None and waiting >= self.skip_after:
            self._origin = uint16_add(self._origin, 1)
            self.skipped += 1
            head = self._packets[self._origin % self.capacity]
        if head is None or waiting < self._prefetch:
            return None
        self.remove(1)
        return _joined([head], head.timestamp)


class MarkerJitterBuffer(JitterBuffer):
    """aiortc's video jitter buffer knows a picture is whole only when the next one's first
    packet arrives: every picture reaches the decoder a frame interval late (67 ms at 15
    fps), and so does the first one after an outage. The sender marks a picture's last packet
    (the RTP marker bit, RFC 7741 §4.1 for VP8, RFC 6184 for H.264): this buffer hands the
    picture on when its packets from the first through the marked one are all in. A sender
    that never marks falls back to aiortc's rule."""

    def __init__(self, capacity: int = 512) -> None:
        super().__init__(capacity=capacity, is_video=True)

    def _remove_frame(self, sequence_number: int) -> JitterFrame | None:
        if self._origin is None:
            return None
        packets: list[Any] = []
        timestamp = None
        for count in range(self.capacity):
            packet = self._packets[(self._origin + count) % self.capacity]
            if packet is None:
                return None
            if timestamp is None:
                timestamp = packet.timestamp
            elif packet.timestamp != timestamp:
                # The next picture began before a marked packet: aiortc's rule.
                self.remove(count)
                return _joined(packets, timestamp)
            packets.append(packet)
            if packet.marker:
                self.remove(count + 1)
                return _joined(packets, timestamp)
        return None


def _joined(packets: list[Any], timestamp: int) -> JitterFrame:
    # aiortc attaches each packet's depayloaded part on arrival, untyped.
    return JitterFrame(data=b"".join(packet._data for packet in packets), timestamp=timestamp)


def hand_on_whole_pictures(receiver: RTCRtpReceiver) -> MarkerJitterBuffer:
    """Give a video receiver the jitter buffer above (before any packet arrived)."""
    _require(receiver, _RECEIVER_JITTER)
    buffer = MarkerJitterBuffer()
    setattr(receiver, _RECEIVER_JITTER, buffer)
    return buffer


def play_through_losses(receiver: RTCRtpReceiver) -> PlayThroughJitterBuffer:
    """Give an audio receiver the jitter buffer above (before any packet arrived)."""
    _require(receiver, _RECEIVER_JITTER)
    buffer = PlayThroughJitterBuffer()
    setattr(receiver, _RECEIVER_JITTER, buffer)
    return buffer


def restart_video_jitter_buffer(receiver: RTCRtpReceiver) -> None:
    """Start a video receiver's jitter buffer and its NACK bookkeeping afresh at the next
    packet. After a gap aiortc's buffer waits on the first packet lost in it until 512 newer
    ones have come (seconds of video) before handing the decoder anything, keyframe or not;
    and NACKs for the packets lost in the gap bring them back late, which the buffer takes
    for a restarted stream: it moves its start back to them and waits all over again. The
    picture is mended by the keyframe asked for instead."""
    buffer = _require(receiver, _RECEIVER_JITTER)
    if buffer._origin is not None:
        buffer.remove(buffer.capacity)
        buffer._origin = None
    nacks = _require(receiver, _RECEIVER_NACKS)
    if nacks is not None:
        nacks.missing.clear()
        nacks.max_seq = None


def encode_speech(sender: RTCRtpSender) -> None:
    """When the audio sender starts with Opus, it encodes with `SpeechOpusEncoder` (checked
    at `send`, where the negotiated codec is known and nothing has been encoded yet)."""
    _require(sender, _SENDER_ENCODER)
    send: Callable[[Any], Awaitable[None]] = sender.send

    async def send_speech(parameters: Any) -> None:
        codecs = getattr(parameters, "codecs", None) or []
        if codecs and codecs[0].mimeType.lower() == "audio/opus":
            setattr(sender, _SENDER_ENCODER, SpeechOpusEncoder())
        await send(parameters)

    sender.send = send_speech  # type: ignore[method-assign]


def on_rtcp(sender: RTCRtpSender, after: Callable[[Any, float | None], None]) -> None:
    """Call `after(packet, round_trip_s)` once aiortc has handled each RTCP packet for
    `sender`: the round trip is the report's own, aiortc's smoothing undone (new = a * old +
    (1 - a) * sample), None when the packet brought none."""
    _require(sender, _SENDER_RTT)
    handle: Callable[[Any], Awaitable[None]] = sender._handle_rtcp_packet

    async def handled(packet: Any) -> None:
        before = getattr(sender, _SENDER_RTT)
        await handle(packet)
        now = getattr(sender, _SENDER_RTT)
        sample = None
        if isinstance(now, float) and now != before:
            sample = (now - RTT_ALPHA * before) / (1 - RTT_ALPHA) if before is not None else now
        after(packet, None if sample is None else max(0.0, sample))

    sender._handle_rtcp_packet = handled  # type: ignore[method-assign]


def on_rtp(receiver: RTCRtpReceiver, before: Callable[[Any], Callable[[], None] | None]) -> None:
    """Call `before(packet)` as each RTP packet reaches the receiver, ahead of aiortc; what it
    returns, if anything, is called once aiortc has handled the packet."""
    handle: Callable[[Any, int], Awaitable[None]] = receiver._handle_rtp_packet

    async def handled(packet: Any, arrival_time_ms: int) -> None:
        then = before(packet)
        await handle(packet, arrival_time_ms)
        if then is not None:
            then()

    receiver._handle_rtp_packet = handled  # type: ignore[method-assign]


async def refresh_consent(pc: RTCPeerConnection, retransmissions: int = 2) -> bool:
    """After an outage, check ICE consent (RFC 7675) at once on each nominated pair, and on
    success start aioice's periodic checks over from it. aioice counts failed checks and
    expires consent at the sixth; only its next periodic success, up to 6 s away, clears the
    count. A second outage soon after a first thus inherited the first's failures, and the
    call died halfway through it. False if a check failed or there is no live connection."""
    connections: list[Any] = []
    for transceiver in pc.getTransceivers():
        dtls = transceiver.sender.transport
        connection = getattr(getattr(dtls, "transport", None), _ICE_CONNECTION, None)
        if connection is not None and all(connection is not c for c in connections):
            connections.append(connection)
    refreshed = False
    for connection in connections:
        task = _require(connection, _CONSENT_TASK)
        if task is None or task.done():
            continue  # not connected yet, or consent already expired
        try:
            for pair in list(_require(connection, _NOMINATED).values()):
                await pair.protocol.request(
                    connection.build_request(pair, nominate=False),
                    pair.remote_addr,
                    integrity_key=connection.remote_password.encode("utf8"),
                    retransmissions=retransmissions,
                )
        except (stun.TransactionError, ConnectionError, OSError):
            return False
        if getattr(connection, _CONSENT_TASK) is task and not task.done():
            task.cancel()
            setattr(connection, _CONSENT_TASK, asyncio.create_task(connection.query_consent()))
            refreshed = True
    return refreshed


async def send_keyframe_request(receiver: RTCRtpReceiver, ssrc: int) -> None:
    """RTCP PLI to the sender of `ssrc` (RFC 4585 §6.3.1)."""
    await receiver._send_rtcp_pli(ssrc)


def _require(obj: object, name: str) -> Any:
    if not hasattr(obj, name):
        raise RuntimeError(
            f"aiortc's {type(obj).__name__} has no {name.split('__')[-1]}: this aiortc "
            "release is not the one the kiosk's media mends were written for"
        )
    return getattr(obj, name)
