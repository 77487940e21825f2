"""One call: one RTCPeerConnection sending our camera and microphone, receiving the far end.

aiortc cannot restart ICE, so a call is never repaired in place: reconnecting means closing
this one and building a new `Call` with new tracks.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.base.frames import RgbFrame
from kiosk.base.tasks import cancel_and_wait
from kiosk.media import aiortc_hooks as hooks
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
    # Seconds since the last RTP packet of either kind arrived (None before the first): audio
    # alone comes every 20 ms, so a gap of a few hundred milliseconds is a cut, not loss.
    rtp_gap_s: float | None = None
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
        *,
        mend_gaps: bool = True,
    ) -> None:
        """`mend_gaps` (the kiosk's own mends, `media.aiortc_hooks`): play through lost audio
        packets, speak Opus with in-band FEC, decode each picture once its last packet is in,
        and after a gap in the inbound media restart the video jitter buffer and ask for a
        keyframe. Off only to measure aiortc on its own
        (the reconnect benchmark's "doing nothing")."""
        self.ice = ice or IceConfig()
        self._mend_gaps = mend_gaps
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
        self._last_rtp_at: float | None = None
        self._video_ssrc: int | None = None
        self._video_receiver: Any = None
        self.keyframe_requests = 0
        self._video_reports = 0
        self._video_rtt: float | None = None
        for transceiver in self._pc.getTransceivers():
            self._time_arrivals(transceiver.receiver, transceiver.kind)
            if transceiver.kind == "video":
                hooks.on_rtcp(transceiver.sender, self._take_report(transceiver.sender))
                if mend_gaps:
                    hooks.hand_on_whole_pictures(transceiver.receiver)
            elif mend_gaps:
                hooks.play_through_losses(transceiver.receiver)
                hooks.encode_speech(transceiver.sender)

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

    @property
    def remote_video_time(self) -> float | None:
        """The newest decoded picture's place on the sender's media clock (seconds from its
        first, None before any): tells a picture taken after an outage from one held back
        from before it."""
        frame = self._remote_video
        return None if frame is None or frame.time is None else float(frame.time)

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
        last = self._last_rtp_at
        return InboundCounters(
            self._arrivals["audio"],
            self._arrivals["video"],
            self._speaker.frames,
            self._video_seq,
            None if last is None else max(0.0, time.monotonic() - last),
            "closed" if self._closed else str(self._pc.connectionState),
        )

    def request_keyframe(self, restart_buffer: bool = False) -> bool:
        """Ask the far end for a new picture (RTCP PLI); False if no video has arrived yet.
        `restart_buffer`: first drop what the video jitter buffer holds, so that the new
        picture is not held behind a packet that will never come."""
        receiver, ssrc = self._video_receiver, self._video_ssrc
        if self._closed or receiver is None or ssrc is None:
            return False
        if restart_buffer:
            hooks.restart_video_jitter_buffer(receiver)
        self.keyframe_requests += 1
        task = asyncio.get_running_loop().create_task(hooks.send_keyframe_request(receiver, ssrc))
        task.add_done_callback(_log_failure)
        return True

    async def refresh_consent(self) -> bool:
        """Media came back after an outage: confirm ICE consent now rather than at the next
        periodic check (`aiortc_hooks.refresh_consent`). False if the far end did not answer."""
        if self._closed:
            return False
        return await hooks.refresh_consent(self._pc)

    # A gap this long with at least this many packets of a kind lost in it: the video lost
    # in the gap leaves the decoder waiting for a keyframe, which the far end sends only
    # every few seconds unless asked (aiortc asks on a decoder error only).
    KEYFRAME_AFTER_GAP_S = 0.25
    LOST_IN_A_GAP = 5

    def _time_arrivals(self, receiver: Any, kind: str) -> None:
        """Count and timestamp each inbound RTP packet where aiortc takes it in: one counter
        and one clock read a packet, no stats walk. After a gap that the network made (the
        packets' sequence numbers jumped), mend what aiortc would not. A loop that stalled
        makes a gap in time too, but its packets waited in the socket and come in order:
        nothing was lost, and restarting the jitter buffer then would throw away good video."""
        arrivals = self._arrivals
        last_at: float | None = None
        last_seq: dict[int, int] = {}

        def arrived(packet: Any) -> Callable[[], None] | None:
            nonlocal last_at
            arrivals[kind] += 1
            now = time.monotonic()
            previous_seq = last_seq.get(packet.ssrc)
            last_seq[packet.ssrc] = packet.sequence_number
            lost = 0 if previous_seq is None else (packet.sequence_number - previous_seq - 1)
            lost &= 0xFFFF
            network_gap = (
                self._mend_gaps
                and last_at is not None
                and now - last_at > self.KEYFRAME_AFTER_GAP_S
                and self.LOST_IN_A_GAP <= lost < 0x8000
            )
            last_at = now
            self._last_rtp_at = now
            if kind == "video":
                self._video_ssrc = packet.ssrc
                if network_gap:
                    hooks.restart_video_jitter_buffer(receiver)
            if not network_gap:
                return None
            log.info("%s back after a gap, %d packets lost: asking for a keyframe", kind, lost)
            return self._ask_keyframe

        hooks.on_rtp(receiver, arrived)
        if kind == "video":
            self._video_receiver = receiver

    def _ask_keyframe(self) -> None:
        self.request_keyframe()

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

    def _take_report(self, sender: Any) -> Callable[[Any, float | None], None]:
        """Count the far end's receiver reports on our video and keep each one's round trip,
        not aiortc's moving average, which after a slow spell stays high for many reports."""

        def taken(packet: Any, round_trip_s: float | None) -> None:
            if not any(r.ssrc == sender._ssrc for r in getattr(packet, "reports", ())):
                return
            self._video_reports += 1
            if round_trip_s is not None:
                self._video_rtt = round_trip_s

        return taken

    # -- lifetime ----------------------------------------------------------------------------

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._speaker.stop()
        task, self._video_task = self._video_task, None
        await cancel_and_wait(task)
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
