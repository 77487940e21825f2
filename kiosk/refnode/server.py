"""The reference node's HTTP face: the client REST API v2 subset the kiosk speaks, on aiohttp.

Answers have the shapes of a real node (`{"status": "success", "result": ...}`, 403 with a
string or a PIN request, 404 with a JSON string for an unknown alias) so the kiosk's client
is exercised exactly as against Pexip Infinity.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence
from importlib import resources
from typing import Any

from aiohttp import web

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.refnode.personality import Personality, split_candidates
from kiosk.refnode.room import NodeParticipant, Room, RoomSpec, StreamItem

log = logging.getLogger(__name__)

API = "/api/client/v2"
KEEPALIVE_S = 10.0
# Official clients wait 62 s for `calls`; answer a held direct-media offer before that.
DIRECT_ANSWER_WAIT_S = 50.0
VERSION = {"version_id": "36", "pseudo_version": "79019.0.0"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RoomHandler = Callable[[web.Request, Room, NodeParticipant], Awaitable[web.StreamResponse]]


def _answer(result: Any, status: int = 200, outcome: str = "success") -> web.Response:
    return web.json_response({"status": outcome, "result": result}, status=status)


def _invalid_token() -> web.Response:
    return _answer("Invalid token", status=403)


def _bad_request(why: str) -> web.Response:
    return _answer(why, status=400, outcome="failure")


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


class RefNode:
    """A small Pexip-compatible conferencing node on loopback, for the demo and for tests."""

    def __init__(
        self,
        rooms: Iterable[RoomSpec],
        clock: Clock | None = None,
        waiting_timeout_s: float = 900.0,
        token_lifetime_s: float = 120.0,
        *,
        stun: Sequence[dict[str, Any]] = (),
        turn: Sequence[dict[str, Any]] = (),
        direct_answer_wait_s: float = DIRECT_ANSWER_WAIT_S,
    ) -> None:
        self._clock = clock or MonotonicClock()
        # Handed out in every token, as a node configured with STUN/TURN servers does.
        self.stun = list(stun)
        self.turn = list(turn)
        self._direct_answer_wait_s = direct_answer_wait_s
        # Fault injection: answer refresh_token with 403, as a node that dropped us would.
        self.refuse_refresh = False
        self.rooms = {
            spec.alias: Room(
                spec,
                self._clock,
                waiting_timeout_s=waiting_timeout_s,
                token_lifetime_s=token_lifetime_s,
            )
            for spec in rooms
        }
        self.maintenance = False
        self._personality = Personality()
        self._runner: web.AppRunner | None = None
        self._event_ids = itertools.count(1)
        self.base_url = ""

    @property
    def personality(self) -> Personality:
        return self._personality

    @personality.setter
    def personality(self, personality: Personality) -> None:
        self._personality = personality
        for room in self.rooms.values():
            room.trickle_ice = personality.trickle_ice
            room.guests_enter_before_host = personality.guests_enter_before_host

    def room(self, alias: str) -> Room:
        return self.rooms[alias]

    def prompt_refresh(self, alias: str) -> None:
        """Send every participant the `refresh_token` event."""
        self.rooms[alias].broadcast("refresh_token", None)

    async def drop_call(self, alias: str, participant_uuid: str, reason: str) -> None:
        """Hang up one participant's call from the node's side (`call_disconnected`)."""
        room = self.rooms[alias]
        await room.drop_call(room.participants[participant_uuid], reason)

    def refer(self, alias: str, participant_uuid: str, to_alias: str) -> None:
        """Move a participant to another room: it gets `refer {alias, token}` with a
        one-time token that joins `to_alias` as a guest past its waiting room."""
        room = self.rooms[alias]
        p = room.participants[participant_uuid]
        token = self.rooms[to_alias].referral()
        room.tell(p, "refer", {"alias": to_alias, "token": token})
        room.remove(p, None, "referred")

    def drop_event_streams(self) -> None:
        """Close every open event stream, as a restarting proxy would; participants stay."""
        for room in self.rooms.values():
            for p in room.participants.values():
                for queue in p.streams:
                    queue.put_nowait(None)

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, ssl_context: ssl.SSLContext | None = None
    ) -> str:
        app = web.Application(middlewares=[self._maintenance_gate])
        conf = API + "/conferences/{alias}"
        part = conf + "/participants/{uuid}"
        call = part + "/calls/{call_uuid}"
        app.add_routes(
            [
                web.get("/practitioner", self._static("practitioner.html")),
                web.get("/practitioner.js", self._static("practitioner.js")),
                web.get(API + "/status", self._status),
                web.post(conf + "/request_token", self._request_token),
                web.post(conf + "/refresh_token", self._in_room(self._refresh_token)),
                web.post(conf + "/release_token", self._in_room(self._release_token)),
                web.post(conf + "/lock", self._in_room(self._locking(True))),
                web.post(conf + "/unlock", self._in_room(self._locking(False))),
                web.get(conf + "/events", self._in_room(self._events)),
                web.post(part + "/calls", self._in_room(self._calls)),
                web.post(part + "/unlock", self._in_room(self._admit)),
                web.post(part + "/disconnect", self._in_room(self._disconnect_participant)),
                web.post(call + "/ack", self._in_room(self._ack)),
                web.post(call + "/disconnect", self._in_room(self._disconnect_call)),
            ]
        )
        # No access log: request paths carry the meeting number.
        self._runner = web.AppRunner(
            app, handle_signals=False, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None and isinstance(server, asyncio.base_events.Server)
        bound = server.sockets[0].getsockname()
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://{host}:{bound[1]}"
        log.info("reference node listening on %s with %d room(s)", self.base_url, len(self.rooms))
        return self.base_url

    async def stop(self) -> None:
        for room in self.rooms.values():
            await room.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- plumbing -----------------------------------------------------------------------------

    @web.middleware
    async def _maintenance_gate(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.maintenance:
            return web.Response(status=503, text="Service Unavailable")
        burst = self._personality
        if burst.gateway_errors > 0 and request.path.rsplit("/", 1)[-1] in burst.gateway_endpoints:
            # A proxy without a node behind it: nothing reaches the node.
            self._personality.gateway_errors -= 1
            status = self._personality.gateway_status
            return web.Response(status=status, text="Bad Gateway" if status == 502 else "Timeout")
        return await handler(request)

    def _in_room(self, handler: RoomHandler) -> Handler:
        """Find the room (404 JSON if unknown) and the caller by token (403 if not valid)."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            room = self.rooms.get(request.match_info["alias"])
            if room is None:
                return _answer("Neither conference nor gateway found", status=404)
            token = request.headers.get("token") or request.query.get("token")
            caller = room.by_token(token)
            if caller is None:
                return _invalid_token()
            return await handler(request, room, caller)

        return wrapped

    @staticmethod
    def _target(request: web.Request, room: Room) -> NodeParticipant | None:
        return room.participants.get(request.match_info["uuid"])

    @staticmethod
    def _static(name: str) -> Handler:
        content_type = "text/html" if name.endswith(".html") else "text/javascript"
        body = resources.files("kiosk.refnode").joinpath("static", name).read_bytes()

        async def serve(request: web.Request) -> web.StreamResponse:
            return web.Response(
                body=body,
                content_type=content_type,
                charset="utf-8",
                headers={"Cache-Control": "no-store"},
            )

        return serve

    # -- endpoints ----------------------------------------------------------------------------

    async def _status(self, request: web.Request) -> web.StreamResponse:
        return _answer({"version": VERSION})

    async def _request_token(self, request: web.Request) -> web.StreamResponse:
        room = self.rooms.get(request.match_info["alias"])
        if room is None:
            return _answer("Neither conference nor gateway found", status=404)
        body = await _json_body(request)
        if body is None:
            return _bad_request("request body must be a JSON object")
        name = body.get("display_name")
        if not isinstance(name, str) or not name.strip():
            return _bad_request("display_name must be a non-empty string")
        call_tag = body.get("call_tag") if isinstance(body.get("call_tag"), str) else ""
        one_time = body.get("token")
        if isinstance(one_time, str) and one_time:
            referred = room.redeem(one_time)
            if referred is None:
                return _answer("Invalid token", status=403)
            p = room.join(name.strip()[:100], referred, str(call_tag), admitted=True)
            return self._token_answer(room, p)
        role = room.role_for_pin(request.headers.get("pin"))
        if role not in ("chair", "guest"):
            return _answer(role, status=403)
        p = room.join(name.strip()[:100], str(role), str(call_tag))
        return self._token_answer(room, p)

    def _token_answer(self, room: Room, p: NodeParticipant) -> web.Response:
        return _answer(
            {
                "token": p.token,
                "expires": str(int(room.token_lifetime_s)),
                "display_name": p.display_name,
                "participant_uuid": p.uuid,
                "service_type": p.service_type,
                "current_service_type": p.service_type,
                "role": "HOST" if p.is_host else "GUEST",
                "call_tag": p.call_tag,
                "version": VERSION,
                "conference_name": room.spec.alias,
                "service_name": room.spec.alias,
                "call_type": "video",
                "direct_media": room.spec.direct_media,
                "trickle_ice_enabled": self._personality.trickle_ice,
                "stun": self.stun,
                "turn": self.turn,
                "use_relay_candidates_only": False,
                "chat_enabled": False,
                "guests_can_present": False,
                "fecc_enabled": False,
            }
        )

    async def _refresh_token(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.StreamResponse:
        if self.refuse_refresh:
            return _invalid_token()
        token = room.refresh(caller)
        return _answer({"token": token, "expires": str(int(room.token_lifetime_s))})

    async def _release_token(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.StreamResponse:
        body = await _json_body(request)
        reason = body.get("reason") if body else None
        why = f"released token: {reason[:100]}" if isinstance(reason, str) else "released token"
        room.remove(caller, None, why)
        return _answer(True)

    def _locking(self, locked: bool) -> RoomHandler:
        """`lock` and `unlock`: the same host-only switch."""
        verb = "lock" if locked else "unlock"

        async def handle(
            request: web.Request, room: Room, caller: NodeParticipant
        ) -> web.StreamResponse:
            if not caller.is_host:
                return _answer(f"Only a host may {verb} the conference", status=403)
            room.set_locked(locked)
            return _answer(True)

        return handle

    async def _admit(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.Response:
        if not caller.is_host:
            return _answer("Only a host may admit participants", status=403)
        target = self._target(request, room)
        if target is None:
            return _answer("Unknown participant", status=404)
        room.admit(target)
        return _answer(True)

    async def _disconnect_participant(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.Response:
        target = self._target(request, room)
        if target is None:
            return _answer("Unknown participant", status=404)
        if target is not caller and not caller.is_host:
            return _answer("Only a host may disconnect others", status=403)
        reason = None if target is caller else "Disconnected by remote host"
        room.remove(target, reason, "disconnected by host" if reason else "disconnected itself")
        return _answer(True)

    async def _calls(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.Response:
        if self._target(request, room) is not caller:
            return _answer("A call may only be placed for one's own participant", status=403)
        body = await _json_body(request)
        if body is None or not isinstance(body.get("sdp"), str) or not body["sdp"]:
            return _bad_request("calls needs a JSON body with an sdp offer")
        if body.get("call_type", "WEBRTC") != "WEBRTC":
            return _bad_request("only call_type WEBRTC is supported")
        if self._personality.calls_delay_s > 0:
            await asyncio.sleep(self._personality.calls_delay_s)  # network time, not the room's
        if room.spec.direct_media:
            return await self._direct_call(room, caller, body["sdp"])
        try:
            call = await room.place_call(caller, body["sdp"])
        except LookupError:
            return _invalid_token()
        except Exception as exc:  # aiortc rejects unusable offers with assorted errors
            log.info("offer refused: %s", type(exc).__name__)
            return _bad_request(f"the SDP offer could not be answered ({type(exc).__name__})")
        answer = str(call.pc.localDescription.sdp)
        if self._personality.trickle_ice:
            answer, candidates = split_candidates(answer)
            # After the answer, as a trickling node sends them.
            asyncio.get_running_loop().call_later(
                0.02, self._trickle, room, caller, [c.to_json() for c in candidates]
            )
        return _answer({"call_uuid": call.uuid, "sdp": answer})

    def _trickle(self, room: Room, p: NodeParticipant, candidates: list[dict[str, str]]) -> None:
        for candidate in candidates:
            room.tell(p, "new_candidate", candidate)

    async def _direct_call(self, room: Room, caller: NodeParticipant, sdp: str) -> web.Response:
        """Guests get no answer here (their offer is ignored; the host's comes as
        `new_offer`); the host's request is held until the guest's answer arrives."""
        leg = room.place_leg(caller, sdp)
        ignored = {"call_uuid": leg.uuid, "sdp": "", "offer_ignored": True}
        if not caller.is_host:
            return _answer(ignored)
        await asyncio.wait({leg.answer}, timeout=self._direct_answer_wait_s)
        if not leg.answer.done() or leg.answer.cancelled():
            return _answer(ignored)
        return _answer({"call_uuid": leg.uuid, "sdp": leg.answer.result()})

    def _own_call(self, request: web.Request, room: Room, caller: NodeParticipant) -> bool:
        call_uuid = request.match_info["call_uuid"]
        return self._target(request, room) is caller and (
            (caller.call is not None and caller.call.uuid == call_uuid)
            or (caller.leg is not None and caller.leg.uuid == call_uuid)
        )

    async def _ack(self, request: web.Request, room: Room, caller: NodeParticipant) -> web.Response:
        if self._personality.ack_delay_s > 0:
            await asyncio.sleep(self._personality.ack_delay_s)
        if not self._own_call(request, room, caller):
            return _answer("Unknown call", status=404)
        if caller.call is not None:
            caller.call.acked = True
            return _answer(True)
        body = await _json_body(request)
        sdp = body.get("sdp") if body else None
        if sdp is not None and (not isinstance(sdp, str) or not sdp.startswith("v=0")):
            return _bad_request("ack sdp must be an SDP answer")
        room.ack_leg(caller, sdp)
        return _answer(True)

    async def _disconnect_call(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.Response:
        if not self._own_call(request, room, caller):
            return _answer("Unknown call", status=404)
        await room.hang_up(caller)
        return _answer(True)

    async def _events(
        self, request: web.Request, room: Room, caller: NodeParticipant
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[StreamItem] = asyncio.Queue()
        caller.streams.append(queue)
        try:
            for item in room.snapshot():
                await self._write_event(response, item)
            while True:
                try:
                    next_item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if next_item is None:
                    break
                await self._write_event(response, next_item)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                caller.streams.remove(queue)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    async def _write_event(self, response: web.StreamResponse, item: tuple[str, Any]) -> None:
        name, data = item
        text = f"event: {name}\nid: {next(self._event_ids)}\ndata: {json.dumps(data)}\n\n"
        await response.write(text.encode())
