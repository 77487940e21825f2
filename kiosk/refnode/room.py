"""Rooms of the reference node: who is in them, in which state, and what each participant's
event streams and media are told. No HTTP here; `server.py` maps requests onto these calls."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid as uuidlib
from dataclasses import dataclass, field
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay
from aiortc.mediastreams import MediaStreamTrack

from kiosk.base.clock import Clock
from kiosk.refnode.direct import DirectLeg
from kiosk.refnode.personality import split_candidates
from kiosk.refnode.tracks import SwitchableTrack, drain

log = logging.getLogger(__name__)

WAITING_TIMEOUT_REASON = "Timeout waiting for host to join or admit"
REMOVED_BY_HOST_REASON = "Disconnected by remote host"
KINDS = ("audio", "video")

StreamItem = tuple[str, Any] | None  # (event name, JSON payload), None closes the stream


@dataclass(frozen=True)
class RoomSpec:
    alias: str
    host_pin: str
    guest_pin: str | None = None
    direct_media: bool = False

    def __post_init__(self) -> None:
        if len(self.alias) != 6 or not self.alias.isdigit():
            raise ValueError(f"room alias must be six digits (got {len(self.alias)} characters)")
        if not self.host_pin.isdigit() or not 4 <= len(self.host_pin) <= 20:
            raise ValueError("host PIN must be 4 to 20 digits")
        if self.guest_pin is not None and (
            not self.guest_pin.isdigit() or self.guest_pin == self.host_pin
        ):
            raise ValueError("guest PIN must be digits and differ from the host PIN")

    @classmethod
    def parse(cls, text: str) -> RoomSpec:
        """`alias:host_pin` or `alias:host_pin:guest_pin`."""
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise ValueError("room must be alias:host_pin[:guest_pin]")
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


class NodeCall:
    """The node's side of one participant's WebRTC call: answers the offer, keeps what comes
    in flowing (so nothing queues up unread) and sends whatever source it is switched to."""

    def __init__(self, relay: MediaRelay) -> None:
        self.uuid = str(uuidlib.uuid4())
        self.pc = RTCPeerConnection()
        self.acked = False
        self.incoming: dict[str, MediaStreamTrack] = {}
        self.outgoing = {kind: SwitchableTrack(kind) for kind in KINDS}
        self.sources: dict[str, MediaStreamTrack | None] = dict.fromkeys(KINDS)
        self.frames_in = {kind: [0] for kind in KINDS}
        self._relay = relay
        self._drains: list[asyncio.Task[None]] = []

    async def answer(self, offer_sdp: str) -> str:
        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind in KINDS:
                self.incoming[track.kind] = track
                tap = self._relay.subscribe(track, buffered=False)
                self._drains.append(asyncio.ensure_future(drain(tap, self.frames_in[track.kind])))

        await self.pc.setRemoteDescription(RTCSessionDescription(offer_sdp, "offer"))
        kinds_offered = {t.kind for t in self.pc.getTransceivers()}
        for kind in KINDS:
            if kind in kinds_offered:
                self.pc.addTrack(self.outgoing[kind])
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    def switch(self, kind: str, source: MediaStreamTrack | None) -> None:
        if self.sources[kind] is source:
            return
        self.sources[kind] = source
        proxy = None if source is None else self._relay.subscribe(source, buffered=False)
        self.outgoing[kind].set_source(proxy)

    async def close(self) -> None:
        for kind in KINDS:
            self.outgoing[kind].stop()
        for task in self._drains:
            task.cancel()
        await self.pc.close()


@dataclass(eq=False)
class NodeParticipant:
    uuid: str
    display_name: str
    role: str  # "chair" or "guest"
    service_type: str
    token: str
    expires_at: float
    call_tag: str = ""
    start_time: float = field(default_factory=time.time)
    streams: list[asyncio.Queue[StreamItem]] = field(default_factory=list)
    call: NodeCall | None = None
    leg: DirectLeg | None = None
    timers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def is_host(self) -> bool:
        return self.role == "chair"

    @property
    def has_media(self) -> bool:
        return self.call is not None or self.leg is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "api_url": f"/participants/{self.uuid}",
            "call_direction": "in",
            "display_name": self.display_name,
            "overlay_text": self.display_name,
            "has_media": self.has_media,
            "is_muted": "NO",
            "is_presenting": "NO",
            "is_video_muted": False,
            "protocol": "webrtc" if self.has_media else "api",
            "role": self.role,
            "service_type": self.service_type,
            "start_time": self.start_time,
            "uuid": self.uuid,
            "call_tag": self.call_tag,
            "disconnect_supported": "YES",
            "mute_supported": "YES",
            "transfer_supported": "NO",
        }


class Room:
    def __init__(
        self,
        spec: RoomSpec,
        clock: Clock,
        *,
        waiting_timeout_s: float,
        token_lifetime_s: float,
    ) -> None:
        self.spec = spec
        self.locked = True
        self.participants: dict[str, NodeParticipant] = {}
        # Direct media: relay the host's offer without its candidates, then each as an event.
        self.trickle_ice = False
        self.guests_enter_before_host = False
        # What happened, for tests and the console: (what, participant uuid, detail).
        self.journal: list[tuple[str, str, str]] = []
        self._clock = clock
        self._waiting_timeout_s = waiting_timeout_s
        self._token_lifetime_s = token_lifetime_s
        self._relay = MediaRelay()
        self._by_token: dict[str, NodeParticipant] = {}
        self._closing: set[asyncio.Future[None]] = set()
        # One-time tokens handed out with `refer`, each good for one request_token.
        self._referrals: dict[str, str] = {}

    # -- roles and tokens ---------------------------------------------------------------------

    def role_for_pin(self, pin: str | None) -> str | dict[str, str]:
        """ "chair"/"guest", or the 403 body to send: a dict asking for a PIN, or a string."""
        guest_pin = self.spec.guest_pin
        if pin == self.spec.host_pin:
            return "chair"
        if guest_pin is not None and pin == guest_pin:
            return "guest"
        if pin is None or (pin == "none" and guest_pin is not None):
            return {"pin": "required", "guest_pin": "none" if guest_pin is None else "required"}
        if pin == "none":
            return "guest"
        return "Invalid PIN"

    def by_token(self, token: str | None) -> NodeParticipant | None:
        p = self._by_token.get(token or "")
        if p is not None and self._clock.now() >= p.expires_at:
            self.remove(p, None, "token expired")
            return None
        return p

    def _new_token(self, p: NodeParticipant) -> str:
        self._by_token.pop(p.token, None)
        p.token = secrets.token_urlsafe(48)
        p.expires_at = self._clock.now() + self._token_lifetime_s
        self._by_token[p.token] = p
        return p.token

    def refresh(self, p: NodeParticipant) -> str:
        return self._new_token(p)

    def referral(self, role: str = "guest") -> str:
        """A one-time token that joins this room, past the waiting room, in `role`."""
        token = secrets.token_urlsafe(24)
        self._referrals[token] = role
        return token

    def redeem(self, token: str) -> str | None:
        return self._referrals.pop(token, None)

    @property
    def token_lifetime_s(self) -> float:
        return self._token_lifetime_s

    @property
    def has_host(self) -> bool:
        return any(p.is_host for p in self.participants.values())

    # -- membership ---------------------------------------------------------------------------

    def join(
        self, display_name: str, role: str, call_tag: str, *, admitted: bool = False
    ) -> NodeParticipant:
        without_host = not self.has_host and not self.guests_enter_before_host
        waiting = not admitted and role != "chair" and (self.locked or without_host)
        p = NodeParticipant(
            uuid=str(uuidlib.uuid4()),
            display_name=display_name,
            role=role,
            service_type="waiting_room" if waiting else "conference",
            token="",
            expires_at=0.0,
            call_tag=call_tag,
        )
        self._new_token(p)
        self.participants[p.uuid] = p
        self.journal.append(("join", p.uuid, p.service_type))
        self._broadcast("participant_create", p.to_json(), exclude=p)
        p.timers.append(asyncio.ensure_future(self._expire_when_due(p)))
        if waiting:
            p.timers.append(asyncio.ensure_future(self._waiting_timeout(p)))
        if role == "chair":
            self._broadcast("conference_update", self.conference_json())
            if not self.locked:
                self.admit_all()
        return p

    def admit(self, p: NodeParticipant) -> None:
        if p.service_type != "waiting_room" or p.uuid not in self.participants:
            return
        p.service_type = "conference"
        self.journal.append(("admit", p.uuid, ""))
        self._broadcast("participant_update", p.to_json())
        self.rewire()
        self.pair()

    def admit_all(self) -> None:
        for p in list(self.participants.values()):
            self.admit(p)

    def set_locked(self, locked: bool) -> None:
        self.locked = locked
        self._broadcast("conference_update", self.conference_json())
        if not locked and self.has_host:
            self.admit_all()

    def remove(self, p: NodeParticipant, reason: str | None, why: str) -> None:
        """Take `p` out; `reason` set means it is told so by a `disconnect` event first."""
        if self.participants.pop(p.uuid, None) is None:
            return
        self._by_token.pop(p.token, None)
        self.journal.append(("leave", p.uuid, why))
        for queue in p.streams:
            if reason is not None:
                queue.put_nowait(("disconnect", {"reason": reason}))
            queue.put_nowait(None)
        current = asyncio.current_task()
        for task in p.timers:
            if task is not current:
                task.cancel()
        if p.call is not None:
            call, p.call = p.call, None
            closing = asyncio.ensure_future(call.close())
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        self._drop_leg(p)
        self._broadcast("participant_delete", {"uuid": p.uuid})
        if p.is_host:
            self._broadcast("conference_update", self.conference_json())
        self.rewire()

    async def _expire_when_due(self, p: NodeParticipant) -> None:
        while p.uuid in self.participants:
            left = p.expires_at - self._clock.now()
            if left <= 0:
                self.remove(p, "Token expired", "token expired")
                return
            await self._clock.sleep(left)

    async def _waiting_timeout(self, p: NodeParticipant) -> None:
        await self._clock.sleep(self._waiting_timeout_s)
        if p.uuid in self.participants and p.service_type == "waiting_room":
            self.remove(p, WAITING_TIMEOUT_REASON, "waiting timeout")

    # -- events -------------------------------------------------------------------------------

    def conference_json(self) -> dict[str, Any]:
        return {
            "locked": self.locked,
            "started": self.has_host,
            "direct_media": self.spec.direct_media,
            "guests_muted": False,
            "all_muted": False,
            "presentation_allowed": False,
            "guests_can_unmute": True,
            "live_captions_available": False,
            "breakout_rooms": False,
        }

    def snapshot(self) -> list[tuple[str, Any]]:
        """What a new event stream starts with: the roster bracket, then the room state."""
        items: list[tuple[str, Any]] = [("participant_sync_begin", None)]
        items += [("participant_create", q.to_json()) for q in self.participants.values()]
        items += [("participant_sync_end", None), ("conference_update", self.conference_json())]
        return items

    def tell(self, p: NodeParticipant, name: str, data: Any) -> None:
        """One event to one participant's open streams."""
        for queue in p.streams:
            queue.put_nowait((name, data))

    def broadcast(self, name: str, data: Any) -> None:
        self._broadcast(name, data)

    def _broadcast(self, name: str, data: Any, exclude: NodeParticipant | None = None) -> None:
        for p in self.participants.values():
            if p is not exclude:
                for queue in p.streams:
                    queue.put_nowait((name, data))

    # -- media --------------------------------------------------------------------------------

    async def place_call(self, p: NodeParticipant, offer_sdp: str) -> NodeCall:
        if p.call is not None:
            await self.hang_up(p)
        call = NodeCall(self._relay)
        try:
            await call.answer(offer_sdp)
        except Exception:
            await call.close()
            raise
        if p.uuid not in self.participants:
            await call.close()
            raise LookupError("participant left while its call was set up")
        p.call = call
        self.journal.append(("call", p.uuid, ""))
        self._broadcast("participant_update", p.to_json())
        self.rewire()
        return call

    async def hang_up(self, p: NodeParticipant) -> None:
        call, p.call = p.call, None
        if call is not None:
            self.journal.append(("hang_up", p.uuid, ""))
            self.rewire()
            await call.close()
        if p.leg is not None:
            self.journal.append(("hang_up", p.uuid, ""))
            self._drop_leg(p)

    async def drop_call(self, p: NodeParticipant, reason: str) -> None:
        """Hang up `p`'s call from the node's side and tell it with `call_disconnected`."""
        call_uuid = p.call.uuid if p.call else p.leg.uuid if p.leg else None
        if call_uuid is None:
            return
        await self.hang_up(p)
        self.tell(p, "call_disconnected", {"call_uuid": call_uuid, "reason": reason})

    # -- direct media -------------------------------------------------------------------------

    def place_leg(self, p: NodeParticipant, offer_sdp: str) -> DirectLeg:
        """A direct-media call: the host's offer is kept for the guest, a guest's ignored."""
        self._drop_leg(p)
        leg = DirectLeg(offer=offer_sdp if p.is_host else None)
        p.leg = leg
        self.journal.append(("call", p.uuid, "direct"))
        self._broadcast("participant_update", p.to_json())
        # After this request is answered, so the guest knows its call uuid first.
        asyncio.get_running_loop().call_soon(self.pair)
        return leg

    def pair(self) -> None:
        """Give the host's waiting offer to an admitted guest with a call; nobody in the
        waiting room ever sees it."""
        hosts = [
            p
            for p in self.participants.values()
            if p.is_host and p.leg and p.leg.offer and p.leg.peer is None
        ]
        guests = [
            p
            for p in self.participants.values()
            if not p.is_host and p.service_type == "conference" and p.leg and p.leg.peer is None
        ]
        for host, guest in zip(hosts, guests, strict=False):
            assert host.leg is not None and guest.leg is not None and host.leg.offer
            host.leg.peer, guest.leg.peer = guest.uuid, host.uuid
            self.journal.append(("offer", guest.uuid, ""))
            if not self.trickle_ice:
                self.tell(guest, "new_offer", {"sdp": host.leg.offer})
                continue
            # A browser sends its offer before gathering ends; the rest trickles after it.
            offer, candidates = split_candidates(host.leg.offer)
            self.tell(guest, "new_offer", {"sdp": offer})
            for candidate in candidates:
                self.tell(guest, "new_candidate", candidate.to_json())

    def ack_leg(self, p: NodeParticipant, answer_sdp: str | None) -> None:
        leg = p.leg
        if leg is None:
            return
        leg.acked = True
        peer = self.participants.get(leg.peer or "")
        if (
            answer_sdp
            and peer is not None
            and peer.leg is not None
            and peer.leg.deliver(answer_sdp)
        ):
            self.journal.append(("answer", peer.uuid, ""))

    def _drop_leg(self, p: NodeParticipant) -> None:
        """End `p`'s direct-media call. The one it was paired with keeps its own call and is
        told `peer_disconnect`: Pexip's clients restart negotiation on that (Android maps it
        to a restart of the peer connection, MediaConnectionSignalingImpl; PexRTC hangs up
        its call and places a new one), so the next host offer pairs with it again."""
        leg, p.leg = p.leg, None
        if leg is None:
            return
        leg.cancel()
        peer = self.participants.get(leg.peer or "")
        if peer is not None and peer.leg is not None and peer.leg.peer == p.uuid:
            peer.leg.peer = None
            if peer.is_host:
                # Its offer was answered by the peer that left; a new one must come.
                peer.leg.offer = None
            self.journal.append(("peer_disconnect", peer.uuid, ""))
            self.tell(peer, "peer_disconnect", None)

    def rewire(self) -> None:
        """Send each admitted participant the media of another admitted one, preferring the
        other role (the guest sees the host); nobody in the waiting room gets any."""
        admitted = [
            q for q in self.participants.values() if q.service_type == "conference" and q.call
        ]
        for p in self.participants.values():
            if p.call is None:
                continue
            for kind in KINDS:
                source = None
                if p in admitted:
                    others = [
                        q for q in admitted if q is not p and q.call and kind in q.call.incoming
                    ]
                    others.sort(key=lambda q: q.role == p.role)
                    if others and others[0].call is not None:
                        source = others[0].call.incoming[kind]
                p.call.switch(kind, source)

    async def close(self) -> None:
        for p in list(self.participants.values()):
            self.remove(p, None, "node stopped")
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
