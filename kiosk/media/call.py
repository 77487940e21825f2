"""One call: one RTCPeerConnection sending our camera and microphone, receiving the far end.

aiortc cannot restart ICE, so a call is never repaired in place: reconnecting means closing
this one and building a new `Call` with new tracks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpsender import RTT_ALPHA
from aiortc.sdp import candidate_from_sdp

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.base.frames import RgbFrame
from kiosk.media.ice import IceConfig
from kiosk.media.tracks import AudioOutput, SpeakerSink

log = logging.getLogger(__name__)


class CallError(RuntimeError):
    """The call was used out of order (e.g. an answer before an offer, or after close)."""


@dataclass(frozen=True)
class InboundCounters:
    """What has arrived so far; liveness compares successive samples."""

    audio_packets: int = 0
    video_packets: int = 0
    audio_frames: int = 0
    video_frames: int = 0
    # Seconds since the last audio RTP packet arrived (None before the first): audio comes
    # every 20 ms, so a gap of a few hundred milliseconds is a cut, not loss.
    audio_gap_s: float | None = None
    transport: str = "new"  # the peer connection's state: "failed"/"closed" end it at once


@dataclass(frozen=True)
class OutboundVideo:
    """How our video is getting across, from the far end's receiver reports."""

    packets_sent: int = 0
    round_trip_s: float | None = None  # None until the first receiver report
    fraction_lost: float | None = None  # 0..1 over the last report interval
    # How many receiver reports have come so far: a figure is fresh only if this moved since
    # the last look (the stats keep the last report's figures while none arrive).
    reports: int | None = None


class Call:
    def __init__(
        self,
        camera_track: MediaStreamTrack,
        mic_track: MediaStreamTrack,
        audio_out: AudioOutput,
        ice: IceConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.ice = ice or IceConfig()
        self._clock = clock or MonotonicClock()
        self._tracks = (mic_track, camera_track)
        self._pc = RTCPeerConnection(self.ice.rtc_configuration())
        # Audio first, both sendrecv, all negotiated now: adding tracks later is fragile.
        self._pc.addTrack(mic_track)
        self._pc.addTrack(camera_track)
        self._speaker = SpeakerSink(audio_out)
        self._video_task: asyncio.Task[None] | None = None
        self._remote_video: av.VideoFrame | None = None
        self._video_seq = 0
        self._rgb_cache: tuple[int, RgbFrame] | None = None
        self._first_video = asyncio.Event()
        self._closed = False
        self._held_candidates: list[tuple[str, str]] = []
        self.remote_candidates_applied = 0
        self.created_at = self._clock.now()
        self.first_remote_video_at: float | None = None
        self.connection_states: list[str] = [self._pc.connectionState]
        self._pc.on("track", self._on_track)
        self._pc.on("connectionstatechange", self._on_connection_state)
        self._arrivals = {"audio": 0, "video": 0}
        self._last_audio_at: float | None = None
        self._video_ssrc: int | None = None
        self._video_receiver: Any = None
        self.keyframe_requests = 0
        self._video_reports = 0
        self._video_rtt: float | None = None
        for transceiver in self._pc.getTransceivers():
            self._time_arrivals(transceiver.receiver, transceiver.kind)
            if transceiver.kind == "video":
                self._take_reports(transceiver.sender)

    # -- negotiation -------------------------------------------------------------------------

    async def offer(self) -> str:
        """A complete offer: aiortc gathers every candidate before this returns."""
        self._check_open("make an offer")
        await self._pc.setLocalDescription(await self._pc.createOffer())
        return str(self._pc.localDescription.sdp)

    async def accept_answer(self, sdp: str) -> None:
        self._check_open("accept an answer")
        if self._pc.signalingState != "have-local-offer":
            raise CallError(
                f"expected an answer after our offer, but signalling is {self._pc.signalingState}"
            )
        await self._set_remote(RTCSessionDescription(sdp=sdp, type="answer"))
        await self._apply_held_candidates()

    async def answer(self, offer_sdp: str) -> str:
        """Answer the far end's offer (direct media: the other side offers)."""
        self._check_open("answer an offer")
        await self._set_remote(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        await self._pc.setLocalDescription(await self._pc.createAnswer())
        await self._apply_held_candidates()
        return str(self._pc.localDescription.sdp)

    async def add_remote_candidate(self, candidate: str, mid: str) -> None:
        """A trickled candidate of the far end. Held until the remote description is set
        (before it, aiortc knows no mids to match); unusable ones are dropped with a log."""
        if self._closed:
            return
        self._held_candidates.append((candidate, mid))
        if self._pc.remoteDescription is not None:
            await self._apply_held_candidates()

    async def _apply_held_candidates(self) -> None:
        held, self._held_candidates = self._held_candidates, []
        for text, mid in held:
            line = text.removeprefix("a=").removeprefix("candidate:")
            # A trickled candidate is outside input like the SDP: one that aiortc cannot
            # parse or place costs that candidate only, never the call.
            try:
                candidate = candidate_from_sdp(line)
                candidate.sdpMid = mid
                await self._pc.addIceCandidate(candidate)
            except Exception as exc:
                log.info("dropped a remote candidate aiortc refused: %s", type(exc).__name__)
                continue
            self.remote_candidates_applied += 1

    async def _set_remote(self, description: RTCSessionDescription) -> None:
        # aiortc's SDP parser answers a bad m=, c=, candidate or rtpmap line with an
        # AssertionError, ValueError, KeyError...: whatever the far end wrote, it is a call
        # error (lost media to the session), never an exception that ends the process.
        try:
            await self._pc.setRemoteDescription(description)
        except CallError:
            raise
        except Exception as exc:
            raise CallError(
                f"the far end's {description.type} could not be used: {type(exc).__name__}"
            ) from exc

    # -- what arrived ------------------------------------------------------------------------

    @property
    def remote_video_frames(self) -> int:
        return self._video_seq

    @property
    def remote_audio_frames(self) -> int:
        return self._speaker.frames

    def latest_remote_frame(self) -> tuple[int, RgbFrame] | None:
        """The newest remote picture as RGB, converted only when asked and only once."""
        frame, seq = self._remote_video, self._video_seq
        if frame is None:
            return None
        if self._rgb_cache is None or self._rgb_cache[0] != seq:
            rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            self._rgb_cache = (seq, rgb)
        return self._rgb_cache

    async def wait_first_video(self, timeout: float) -> float:
        """Wait for the first remote video frame; returns the clock time it arrived."""
        await asyncio.wait_for(self._first_video.wait(), timeout)
        assert self.first_remote_video_at is not None
        return self.first_remote_video_at

    async def inbound(self) -> InboundCounters:
        """Counters for liveness: RTP packets as they arrived, decoded frames counted here."""
        last = self._last_audio_at
        return InboundCounters(
            self._arrivals["audio"],
            self._arrivals["video"],
            self._speaker.frames,
            self._video_seq,
            None if last is None else max(0.0, time.monotonic() - last),
            "closed" if self._closed else str(self._pc.connectionState),
        )

    def request_keyframe(self) -> bool:
        """Ask the far end for a new picture (RTCP PLI); False if no video has arrived yet."""
        receiver, ssrc = self._video_receiver, self._video_ssrc
        if self._closed or receiver is None or ssrc is None:
            return False
        self.keyframe_requests += 1
        task = asyncio.get_running_loop().create_task(receiver._send_rtcp_pli(ssrc))
        task.add_done_callback(_log_failure)
        return True

    # How long without audio before the first packet back also asks for a keyframe: the
    # video packets lost in the gap leave the decoder waiting for one.
    KEYFRAME_AFTER_GAP_S = 0.25

    def _time_arrivals(self, receiver: Any, kind: str) -> None:
        """Count and timestamp each inbound RTP packet where aiortc hands it to the receiver:
        one counter and one clock read a packet, no stats walk."""
        handle: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet
        arrivals = self._arrivals

        async def timed(packet: Any, arrival_time_ms: int) -> None:
            arrivals[kind] += 1
            if kind == "audio":
                now = time.monotonic()
                last, self._last_audio_at = self._last_audio_at, now
                if last is not None and now - last > self.KEYFRAME_AFTER_GAP_S:
                    log.info("audio back after %.2f s: asking for a keyframe", now - last)
                    self.request_keyframe()
            else:
                self._video_ssrc = packet.ssrc
            await handle(packet, arrival_time_ms)

        receiver._handle_rtp_packet = timed
        if kind == "video":
            self._video_receiver = receiver

    async def outbound_video(self) -> OutboundVideo:
        """Packets sent and the far end's latest report on them (aiortc's fractionLost is
        the RTCP 0-255 fraction). The round trip is the latest report's own, not aiortc's
        moving average, which after a slow spell stays high for many reports."""
        if self._closed:
            return OutboundVideo()
        packets, lost = 0, None
        for stats in (await self._pc.getStats()).values():
            if getattr(stats, "kind", None) != "video":
                continue
            if stats.type == "outbound-rtp":
                packets += stats.packetsSent
            elif stats.type == "remote-inbound-rtp" and stats.fractionLost is not None:
                lost = float(stats.fractionLost) / 256.0
        return OutboundVideo(packets, self._video_rtt, lost, self._video_reports)

    def _take_reports(self, sender: Any) -> None:
        """Count the far end's receiver reports on our video, and undo aiortc's smoothing of
        the round trip (new = a * old + (1 - a) * sample) to get each report's own."""
        handle: Callable[[Any], Awaitable[None]] = sender._handle_rtcp_packet

        async def counted(packet: Any) -> None:
            before = getattr(sender, "_RTCRtpSender__rtt", None)
            await handle(packet)
            after = getattr(sender, "_RTCRtpSender__rtt", None)
            if not any(r.ssrc == sender._ssrc for r in getattr(packet, "reports", ())):
                return
            self._video_reports += 1
            if isinstance(after, float) and after != before:
                if isinstance(before, float):
                    after = (after - RTT_ALPHA * before) / (1 - RTT_ALPHA)
                self._video_rtt = max(0.0, after)

        sender._handle_rtcp_packet = counted

    # -- lifetime ----------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._speaker.stop()
        task, self._video_task = self._video_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._pc.close()
        for track in self._tracks:
            track.stop()
        self._remote_video = None
        self._rgb_cache = None

    def _check_open(self, what: str) -> None:
        if self._closed:
            raise CallError(f"cannot {what}: the call is closed")

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "audio":
            self._speaker.start(track)
        elif track.kind == "video" and self._video_task is None:
            self._video_task = asyncio.get_running_loop().create_task(self._receive_video(track))

    def _on_connection_state(self) -> None:
        state = str(self._pc.connectionState)
        self.connection_states.append(state)
        log.info("call connection %s", state)

    async def _receive_video(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if not isinstance(frame, av.VideoFrame):
                raise TypeError(f"expected video frames from the remote track, got {type(frame)}")
            self._remote_video = frame
            self._video_seq += 1
            if self.first_remote_video_at is None:
                self.first_remote_video_at = self._clock.now()
                self._first_video.set()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("keyframe request failed: %s", type(task.exception()).__name__)
