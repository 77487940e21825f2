"""One participant's presence in a conference, turned into a few domain signals.

`Conference` joins (with the PIN flow), keeps the token fresh at half its lifetime, follows
the event stream (reconnecting with backoff and rebuilding the roster from each sync
bracket) and tells its consumer only what the session needs to know, as the signals of
`kiosk.pexip.signals` (Waiting, Admitted, Removed, ...). It is also the signalling seam the
calls use (`media.signaling`): offers, answers and acks go through it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.base.tasks import cancel_and_wait
from kiosk.pexip.answers import Token
from kiosk.pexip.client import ConferenceStep, InfinityClient
from kiosk.pexip.errors import (
    InvalidToken,
    NoSuchConference,
    PexipError,
    PinRequired,
    ProtocolError,
)
from kiosk.pexip.events import (
    CallDisconnected,
    ConferenceUpdate,
    Disconnect,
    InfinityEvent,
    MalformedEvent,
    NewCandidate,
    NewOffer,
    Participant,
    ParticipantCreate,
    ParticipantDelete,
    ParticipantSyncBegin,
    ParticipantSyncEnd,
    ParticipantUpdate,
    PeerDisconnect,
    Refer,
    RefreshToken,
    UpdateSdp,
)
from kiosk.pexip.sdp import checked_sdp
from kiosk.pexip.signals import (
    FINAL_SIGNALS,
    Admitted,
    CallDropped,
    PeerGone,
    Referred,
    RemoteCandidate,
    RemoteOffer,
    Removed,
    Signal,
    StreamBack,
    StreamLost,
    TokenLost,
    Waiting,
)

log = logging.getLogger(__name__)

WAITING_SERVICE_TYPES = frozenset({"waiting_room"})
ADMITTED_SERVICE_TYPES = frozenset({"conference", "lecture"})
_BEST_EFFORT_TIMEOUT_S = 3.0


class NotJoined(PexipError):
    """A call or ack was asked for before `join` succeeded (or after the end)."""


class Conference:
    def __init__(
        self,
        client: InfinityClient,
        alias: str,
        *,
        clock: Clock | None = None,
        on_event: Callable[[InfinityEvent], None] | None = None,
        max_stream_backoff_s: float = 5.0,
        stream_backoff_step_s: float = 0.5,
    ) -> None:
        self._step: ConferenceStep = client.conference(alias)
        self._clock: Clock = clock or MonotonicClock()
        self._on_event = on_event
        self._max_backoff = max_stream_backoff_s
        self._backoff_step = stream_backoff_step_s
        self._token: Token | None = None
        self._token_at = 0.0
        self._refresh_now = asyncio.Event()
        self._roster: dict[str, Participant] = {}
        self._sync: dict[str, Participant] | None = None
        # False while the conference has not started (no host yet): everyone waits. None
        # until the node says: a guest it put in the conference before any host came is
        # only admitted once the conference has started.
        self._started: bool | None = None
        self._synced = False
        self._own_service_type = ""
        self._admission: type[Signal] | None = None
        self._call_uuid: str | None = None
        self._queue: asyncio.Queue[Signal | None] = asyncio.Queue()
        self._history: list[Signal] = []
        self._ended = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- what the engine reads ----------------------------------------------------------------

    @property
    def token(self) -> Token | None:
        return self._token

    @property
    def direct_media(self) -> bool:
        """The node said (in the token) that media goes straight to the far end."""
        return self._token.direct_media if self._token else False

    @property
    def participant_uuid(self) -> str | None:
        return self._token.participant_uuid if self._token else None

    @property
    def call_uuid(self) -> str | None:
        return self._call_uuid

    @property
    def roster(self) -> Mapping[str, Participant]:
        return dict(self._roster)

    @property
    def history(self) -> tuple[Signal, ...]:
        return tuple(self._history)

    async def signals(self) -> AsyncIterator[Signal]:
        """Every signal in order; ends after a final one or after `leave`. One consumer."""
        while True:
            signal = await self._queue.get()
            if signal is None:
                return
            yield signal

    # -- what the engine asks -----------------------------------------------------------------

    async def join(
        self,
        display_name: str,
        pin: str | None = None,
        *,
        call_tag: str | None = None,
        direct_media: bool = False,
        one_time_token: str | None = None,
    ) -> Token:
        """Get a token (as guest without a PIN, or with the PIN given) and start following
        the conference. Raises PinRequired if guests need a PIN and none was given.
        `direct_media` says we can take the far end's offer; `one_time_token` comes from
        a Referred signal."""
        if self._token is not None or self._ended:
            raise PexipError("join was already called on this Conference")

        async def request(pin: str | None) -> Token:
            return await self._step.request_token(
                display_name,
                pin=pin,
                call_tag=call_tag,
                direct_media=direct_media,
                one_time_token=one_time_token,
            )

        try:
            token = await request(pin)
        except PinRequired as exc:
            if pin is not None or exc.guest_pin_required:
                raise
            token = await request("")
        self._token, self._token_at = token, self._clock.now()
        self._service_type(token.current_service_type)
        self._tasks = [
            asyncio.create_task(self._refresh_loop(), name="pexip-token-refresh"),
            asyncio.create_task(self._stream_loop(), name="pexip-events"),
        ]
        return token

    async def place_call(self, sdp: str) -> str:
        """POST calls with a full (non-trickle) offer; returns the answer SDP, or "" when
        the node ignored the offer (direct media: wait for a RemoteOffer instead). A call
        still up is hung up first, so this also rebuilds media with the same participant."""
        token = self._live_token()
        if self._call_uuid is not None:
            await self.hang_up_call()
        answer = await self._step.participant(token.participant_uuid).calls(token, sdp)
        self._call_uuid = answer.call_uuid
        return answer.sdp

    async def ack(self, sdp: str | None = None) -> None:
        """Start media on the placed call; with `sdp`, our answer to a RemoteOffer."""
        token = self._live_token()
        if self._call_uuid is None:
            raise NotJoined("ack needs a call placed first")
        await self._call_step(token, self._call_uuid).ack(token, sdp)

    # The seam media sets calls up through (kiosk.media.signaling.Signaling).

    async def send_offer(self, sdp: str) -> str:
        return await self.place_call(sdp)

    async def send_answer(self, sdp: str) -> None:
        await self.ack(sdp)

    async def hang_up(self) -> None:
        await self.hang_up_call()

    async def hang_up_call(self) -> None:
        """Hang up the media only (the participant and its token stay); never raises."""
        call_uuid, self._call_uuid = self._call_uuid, None
        token = self._token
        if call_uuid is None or token is None:
            return
        await self._best_effort(self._call_step(token, call_uuid).disconnect(token), "call")

    async def leave(self, reason: str | None = None) -> bool:
        """Hang up, release the token and stop following; best effort, never raises. False
        only when a token was held and the node did not take it back (it then lingers in
        the clinician's list until it expires). `reason` goes to the node as is: a fixed
        phrase, never personal data."""
        token = self._token
        await self.hang_up_call()
        self._end()
        await self._stop_tasks()
        if token is None:
            return True
        return await self._best_effort(self._step.release_token(token, reason), "release_token")

    # -- internals ----------------------------------------------------------------------------

    def _live_token(self) -> Token:
        if self._token is None or self._ended:
            raise NotJoined("expected a joined conference, but there is no live token")
        return self._token

    def _call_step(self, token: Token, call_uuid: str) -> Any:
        return self._step.participant(token.participant_uuid).call(call_uuid)

    async def _best_effort(self, request: Coroutine[Any, Any, None], what: str) -> bool:
        try:
            await asyncio.wait_for(request, _BEST_EFFORT_TIMEOUT_S)
        except (PexipError, TimeoutError) as exc:
            log.info("%s on leaving failed, ignored: %s", what, type(exc).__name__)
            return False
        return True

    def _emit(self, signal: Signal) -> None:
        if self._ended:
            return
        log.info("conference signal %s", type(signal).__name__)
        self._history.append(signal)
        self._queue.put_nowait(signal)
        if isinstance(signal, FINAL_SIGNALS):
            self._end()

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put_nowait(None)
            current = asyncio.current_task()
            for task in self._tasks:
                if task is not current:
                    task.cancel()

    async def _stop_tasks(self) -> None:
        # What they ended with was logged where it happened.
        await cancel_and_wait(*self._tasks)

    def _service_type(self, service_type: str) -> None:
        self._own_service_type = service_type
        if service_type in WAITING_SERVICE_TYPES:
            kind: type[Signal] = Waiting
        elif service_type in ADMITTED_SERVICE_TYPES:
            # In the conference proper, but it has not started: still waiting for the host
            # (`conference_update.started`, Android InfinityEvent, Swift ConferenceStatus).
            if self._started is None:
                return
            kind = Admitted if self._started else Waiting
        else:
            return
        if kind is not self._admission:
            self._admission = kind
            self._emit(kind())

    def _remote_offer(self, what: str, sdp: str) -> None:
        # Not tied to `_call_uuid`: the offer may overtake the answer to our `calls` request.
        try:
            self._emit(RemoteOffer(checked_sdp(sdp)))
        except ProtocolError as exc:
            log.warning("dropped a %s event: %s", what, exc)

    async def _refresh_loop(self) -> None:
        while not self._ended and self._token is not None:
            token = self._token
            due = self._token_at + token.expires / 2
            await self._sleep_or_refresh(due - self._clock.now())
            self._refresh_now.clear()
            try:
                fresh = await self._step.refresh_token(token)
            except InvalidToken:
                self._emit(TokenLost("the node refused the token"))
                return
            except PexipError as exc:
                expires_at = self._token_at + token.expires
                left = expires_at - self._clock.now()
                if left <= 0:
                    self._emit(TokenLost(f"token expired while refresh failed ({exc})"))
                    return
                log.warning("token refresh failed, retrying: %s", type(exc).__name__)
                await self._clock.sleep(min(2.0, left / 2))
                # Retry at once on the next turn: the token is already past half-life.
                self._refresh_now.set()
                continue
            if self._token is token:
                self._token, self._token_at = fresh, self._clock.now()

    async def _sleep_or_refresh(self, seconds: float) -> None:
        if self._refresh_now.is_set():
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        poke = asyncio.ensure_future(self._refresh_now.wait())
        try:
            await asyncio.wait({sleeper, poke}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            poke.cancel()

    async def _stream_loop(self) -> None:
        attempt = 0
        lost = False
        while not self._ended and self._token is not None:
            try:
                async for event in self._step.events(self._token):
                    if lost:
                        lost, attempt = False, 0
                        self._emit(StreamBack())
                    self._handle(event)
                    if self._ended:
                        return
            except InvalidToken:
                self._emit(TokenLost("the node refused the token on the event stream"))
                return
            except NoSuchConference:
                self._emit(Removed("the conference no longer exists"))
                return
            except PexipError as exc:
                log.info("event stream failed: %s", type(exc).__name__)
            if self._ended:
                return
            if not lost:
                lost = True
                self._emit(StreamLost())
            attempt += 1
            await self._clock.sleep(min(attempt * self._backoff_step, self._max_backoff))

    def _handle(self, event: InfinityEvent) -> None:
        own = self.participant_uuid
        match event:
            case ParticipantSyncBegin():
                self._sync = {}
            case ParticipantSyncEnd():
                self._synced = True
                if self._sync is not None:
                    self._roster, self._sync = self._sync, None
                    mine = self._roster.get(own or "")
                    if mine is not None:
                        self._service_type(mine.service_type)
            case ParticipantCreate(participant=p) | ParticipantUpdate(participant=p):
                (self._sync if self._sync is not None else self._roster)[p.uuid] = p
                if p.uuid == own and self._sync is None:
                    self._service_type(p.service_type)
            case ParticipantDelete(uuid=uuid):
                self._roster.pop(uuid, None)
                if uuid == own:
                    self._emit(Removed("our participant was deleted"))
            case ConferenceUpdate(started=started) if started is not None:
                if started != self._started:
                    self._started = started
                    self._service_type(self._own_service_type)
            case NewCandidate(candidate=candidate, mid=mid):
                # PexRTC marks the end of candidates with an empty one; aiortc needs no marker.
                if candidate.strip():
                    self._emit(RemoteCandidate(candidate, mid))
            case PeerDisconnect():
                self._emit(PeerGone())
            case Disconnect(reason=reason):
                self._emit(Removed(reason))
            case RefreshToken():
                self._refresh_now.set()
            case CallDisconnected(call_uuid=call_uuid, reason=reason) if (
                call_uuid == self._call_uuid
            ):
                self._call_uuid = None
                self._emit(CallDropped(reason))
            case NewOffer(sdp=sdp) | UpdateSdp(sdp=sdp):
                self._remote_offer(type(event).__name__, sdp)
            case Refer(alias=alias, token=one_time):
                if alias and one_time:
                    self._emit(Referred(alias, one_time))
                else:
                    log.warning("dropped a refer event without an alias or a token")
            case MalformedEvent(name=name, problem=problem):
                log.warning("dropped a malformed %s event: %s", name, problem)
            case _:
                pass
        if (
            self._started is None
            and self._synced
            and not isinstance(event, ParticipantSyncEnd | ConferenceUpdate)
        ):
            # The roster came and the event after it was no conference_update: a node that
            # does not send one has started.
            self._started = True
            self._service_type(self._own_service_type)
        if self._on_event is not None:
            try:
                self._on_event(event)
            except Exception:
                log.exception("event listener failed on %s", type(event).__name__)
