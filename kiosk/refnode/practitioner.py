"""A scripted practitioner: joins as host with the PIN (through the kiosk's own wire client),
admits each guest from the waiting room after a delay, sends a test pattern and a 440 Hz tone,
and counts what it receives back. In a direct-media room it offers to each guest it admits
(the node holds that offer until the guest answers)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from typing import Any

import av
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.pexip.client import InfinityClient
from kiosk.pexip.conference import Conference
from kiosk.pexip.errors import PexipError
from kiosk.pexip.events import (
    CallDisconnected,
    InfinityEvent,
    ParticipantCreate,
    ParticipantDelete,
    ParticipantUpdate,
    PeerDisconnect,
)
from kiosk.refnode.tracks import PatternTrack, ToneTrack, drain

log = logging.getLogger(__name__)


class PractitionerBot:
    def __init__(
        self,
        base_url: str,
        alias: str,
        pin: str,
        *,
        admit_after_s: float = 0.0,
        clock: Clock | None = None,
        display_name: str = "Klinikar",
        allowed_hosts: Sequence[str] | None = None,
    ) -> None:
        hosts = allowed_hosts if allowed_hosts is not None else ["127.0.0.1", "localhost"]
        self._client = InfinityClient(base_url, hosts)
        self._clock = clock or MonotonicClock()
        self.conference = Conference(self._client, alias, clock=self._clock, on_event=self._seen)
        self._step = self._client.conference(alias)
        self._pin = pin
        self._display_name = display_name
        self._admit_after_s = admit_after_s
        self._pc: RTCPeerConnection | None = None
        self._tasks: set[asyncio.Future[None]] = set()
        self._guests: set[str] = set()
        self._video_in = [0]
        self._audio_in = [0]
        self._latest_video: list[Any] = [None]
        self.admitted: list[str] = []
        self.departed: list[str] = []
        self.guest_left = asyncio.Event()

    @property
    def video_frames_received(self) -> int:
        return self._video_in[0]

    @property
    def audio_frames_received(self) -> int:
        return self._audio_in[0]

    @property
    def latest_video(self) -> av.VideoFrame | None:
        """The newest picture of the patient the practitioner's side decoded."""
        frame = self._latest_video[0]
        return frame if isinstance(frame, av.VideoFrame) else None

    async def start(self) -> None:
        """Join as host; in a transcoded room, place the call at once."""
        token = await self.conference.join(self._display_name, pin=self._pin)
        if not token.direct_media:
            await self._call()

    async def _call(self) -> None:
        """Offer the test pattern and the tone; an empty answer (a direct-media offer nobody
        took) closes the connection again."""
        if self._pc is not None:
            await self._pc.close()
        pc = self._pc = RTCPeerConnection()

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video":
                self._spawn(drain(track, self._video_in, self._latest_video))
            else:
                self._spawn(drain(track, self._audio_in))

        pc.addTrack(PatternTrack())
        pc.addTrack(ToneTrack())
        await pc.setLocalDescription(await pc.createOffer())
        answer = await self.conference.place_call(pc.localDescription.sdp)
        if not answer:
            await pc.close()
            return
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        await self.conference.ack()

    async def _call_again(self) -> None:
        with contextlib.suppress(PexipError):
            await self.conference.hang_up_call()
        with contextlib.suppress(PexipError):
            await self._call()

    async def leave(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.conference.leave()
        if self._pc is not None:
            await self._pc.close()
        await self._client.close()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _seen(self, event: InfinityEvent) -> None:
        own = self.conference.participant_uuid
        match event:
            case ParticipantCreate(participant=p) | ParticipantUpdate(participant=p):
                if p.uuid == own or p.is_host:
                    return
                if p.service_type == "waiting_room" and p.uuid not in self._guests:
                    self._guests.add(p.uuid)
                    self._spawn(self._admit(p.uuid))
                self._guests.add(p.uuid)
            case ParticipantDelete(uuid=uuid) if uuid in self._guests:
                self._guests.discard(uuid)
                self.departed.append(uuid)
                self.guest_left.set()
            case CallDisconnected() if self.conference.direct_media and self._pc is not None:
                pc, self._pc = self._pc, None
                self._spawn(pc.close())
            case PeerDisconnect() if self.conference.direct_media and self._guests:
                # As PexRTC does: hang up this call and place a new one, which the node pairs
                # with the patient's next call.
                self._spawn(self._call_again())
            case _:
                pass

    async def _admit(self, uuid: str) -> None:
        await self._clock.sleep(self._admit_after_s)
        token = self.conference.token
        if token is None:
            return
        with contextlib.suppress(PexipError):
            await self._step.participant(uuid).unlock(token)
            self.admitted.append(uuid)
            log.info("admitted a guest from the waiting room")
        if self.conference.direct_media:
            with contextlib.suppress(PexipError):
                await self._call()
