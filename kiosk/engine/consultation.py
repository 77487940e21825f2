"""One knock on the conference: the participant, its event stream and its call, from the
moment the patient knocks until the session ends them.

The call is set up while the patient is still waiting, so that admission only has to start
the clinician's media flowing: that is what keeps "let in" → "sees the clinician" short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.base.privacy import SESSION_SECRETS
from kiosk.base.tasks import caller_cancelled, cancel_and_wait
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.engine.recovery import Recovery, recover
from kiosk.engine.view import RgbFrame
from kiosk.engine.wire_terms import error_kind, ice_config
from kiosk.media.call import Call, CallError
from kiosk.media.liveness import Health, HealthChange, InboundWatch, watch_call
from kiosk.media.quality import QualityController, QualityPolicy
from kiosk.media.signaling import connect, connect_direct
from kiosk.media.tracks import CameraVideoTrack, MicrophoneAudioTrack, SendFormat
from kiosk.pexip import errors as wire_errors
from kiosk.pexip import signals as wire
from kiosk.pexip.answers import Token
from kiosk.pexip.client import InfinityClient
from kiosk.pexip.conference import Conference
from kiosk.session import events as ev
from kiosk.session.state import ErrorKind

log = logging.getLogger(__name__)

# No RTP packet of either kind for this long, seen by a loop that ran all along, is a cut
# (audio alone comes every 20 ms; see media.liveness); aiortc itself needs 24-36 s. Not
# less: a link whose delay jumps by 300 ms under 30 % loss goes quiet for almost 0.5 s.
RTP_GAP_S = 0.7
# Audio or video packets that stop for this long while the other kind flows: the far end
# stopped sending, which a new call may mend.
OUTAGE_WINDOW_S = 2.0
# A picture frozen this long while its packets arrive, keyframes asked for twice a second:
# the last resort is a new call.
FROZEN_PICTURE_S = 8.0
WATCHED = ("audio_packets", "video_packets", "video_frames")
# How long one attempt at (re)building the call may take: the node may hold `calls` and `ack`
# for tens of seconds (Pexip's Swift SDK waits 62 s for `calls`, ParticipantService.swift;
# Android sets no read timeout on `ack`, CallStepImpl), each bounded by the client's own 62 s.
# The session retries with backoff after it; a cut link fails at once.
CALL_SETUP_LIMIT_S = 130.0
HANG_UP_COURTESY_S = 0.3
# A failed set-up while waiting is tried again after 1, 2, 4 ... s (at most 30 s).
SETUP_RETRY_STEP_S = 1.0
# After the token: how long the node may take to put us in the waiting room or the conference.
JOINING_LIMIT_S = 30.0
# A removal while waiting counts as the node's waiting-for-host timeout (Pexip's default
# 900 s, "if a Host does not join") only after this share of the kiosk's lobby limit.
HOST_TIMEOUT_SHARE = 0.9


class Consultation:
    def __init__(
        self,
        *,
        config: KioskConfig,
        camera: CameraHub,
        audio: AudioIO,
        clock: Clock,
        alias: str,
        display_name: str,
        host: str | None,
        post: Callable[[Consultation, ev.Event], None],
        watch_media: bool = True,
        send_format: SendFormat | None = None,
    ) -> None:
        self._config = config
        self._camera = camera
        self._audio = audio
        self._clock = clock
        self._alias = alias
        self._display_name = display_name
        self._base_url = f"https://{host}" if host else config.node_url
        self._post_to_engine = post
        # Off only to measure what aiortc does on its own (the reconnect benchmark's baseline):
        # no outage watch, no recovery, no mending of gaps in the call.
        self._watch_media_enabled = watch_media
        # Set only to measure the call's cost at one known format (the cost benchmark).
        self._send_format = send_format
        self._client: InfinityClient | None = None
        self._conference: Conference | None = None
        self._call: Call | None = None
        self._call_ready = asyncio.Event()
        self._admitted = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._ended = False
        self._ending: asyncio.Future[bool] | None = None
        self._quality: QualityController | None = None
        self._showing_id = False
        self._camera_track: CameraVideoTrack | None = None
        # Media runs in real time whatever clock the session uses.
        self._media_clock = MonotonicClock()
        self._video_frames = 0
        self._audio_frames = 0
        # What the session was last told (None: nothing yet), so that a refer into a new
        # waiting room does not knock twice in the session's eyes.
        self._admitted_posted: bool | None = None
        self._placed = False
        self._waiting_since: float | None = None
        self._setup_failed = False
        # The call is known dead (hung up by the node, its far end gone, never set up): a
        # recovery replaces it without waiting for it to come back.
        self._call_dead = False
        # Peer connections made for this knock: one, unless media had to be rebuilt.
        self.calls_built = 0

    # -- what the engine reads ----------------------------------------------------------------

    def latest_remote_frame(self) -> tuple[int, RgbFrame] | None:
        return self._call.latest_remote_frame() if self._call else None

    def connection_quality(self) -> str:
        """The call's connection badge: "good", "fair" or "poor"."""
        if self._call is None or not self._call_ready.is_set():
            return "poor"
        return self._quality.badge.name if self._quality is not None else "good"

    def media_counts(self) -> tuple[int, int]:
        """Remote video and audio frames received over the whole consultation."""
        video, audio = self._video_frames, self._audio_frames
        if self._call is not None:
            video += self._call.remote_video_frames
            audio += self._call.remote_audio_frames
        return video, audio

    def video_clock(self) -> tuple[int, float | None]:
        """The calls built so far and the media time of the current call's newest picture."""
        call = self._call
        return self.calls_built, call.remote_video_time if call is not None else None

    # -- lifetime -----------------------------------------------------------------------------

    def _post(self, event: ev.Event) -> None:
        if not self._ended:
            self._post_to_engine(self, event)

    async def run(self) -> None:
        alias, one_time_token = self._alias, None
        while not self._ended:
            referred = await self._follow(alias, one_time_token)
            if referred is None:
                return
            # Pexip's refer: leave this conference, then join the alias with the one-time
            # token (Android RefererImpl, PexRTC processRefer). Same patient, same call set-up.
            alias, one_time_token = referred.alias, referred.token
            SESSION_SECRETS.add(alias)
            log.info("referred to another conference: joining it")
            await self._leave_conference()

    async def _follow(self, alias: str, one_time_token: str | None) -> wire.Referred | None:
        """Join one conference and follow it until it ends; the Referred signal if it moved
        us on, else None."""
        try:
            if self._client is None:
                self._client = InfinityClient(
                    self._base_url,
                    self._config.allowed_hosts,
                    ca_file=self._config.ca_file or None,
                )
            self._conference = Conference(self._client, alias, clock=self._clock)
            # Like Pexip's own clients, say we can take the far end's offer; the node decides.
            # A patient has no PIN: the six digits are the room, and the room lets guests in
            # without one (`pin: none`).
            token = await self._conference.join(
                self._display_name, None, direct_media=True, one_time_token=one_time_token
            )
        except (wire_errors.PexipError, OSError, TimeoutError) as exc:
            log.warning("knocking failed: %s", type(exc).__name__)
            self._post(ev.JoinFailed(error_kind(exc)))
            return None
        self._placed = False
        self._spawn(self._joining_deadline(self._conference), name="joining-deadline")
        self._start_setting_up(token)
        async for signal in self._conference.signals():
            if isinstance(signal, wire.Referred):
                return signal
            self._on_signal(signal)
        return None

    async def _joining_deadline(self, conference: Conference) -> None:
        """A token that never puts us in the waiting room or the conference (an unexpected
        service type, an event stream that never opens) must not leave the patient in
        JOINING: after the limit they get a clear error."""
        await self._clock.sleep(JOINING_LIMIT_S)
        if conference is self._conference and not self._placed and not self._ended:
            log.warning("neither waiting nor admitted %.0f s after the token", JOINING_LIMIT_S)
            self._post(ev.JoinFailed(ErrorKind.PROTOCOL))

    async def _leave_conference(self) -> None:
        await cancel_and_wait(*self._tasks)
        call, self._call = self._call, None
        if call is not None:
            self._keep_counts(call)
            with contextlib.suppress(Exception):
                await call.close()
        self._call_ready.clear()
        if self._conference is not None:
            await self._conference.leave()

    def _on_signal(self, signal: wire.Signal) -> None:
        match signal:
            case wire.Waiting():
                self._placed = True
                self._waiting_since = self._clock.now()
                if self._admitted_posted is not False:
                    self._admitted_posted = False
                    self._post(ev.Knocked())
            case wire.Admitted():
                self._placed = True
                self._admitted = True
                if self._admitted_posted is not True:
                    self._admitted_posted = True
                    self._post(ev.Admitted())
                self._spawn(self._watch_media(), name="watch-media")
                if self._setup_failed:
                    # Let in without working media: the session rebuilds the call.
                    self._cancel_named("set-up")
                    self._lost_for_good()
            case wire.Removed(reason=reason):
                self._post(ev.RemovedByServer(reason, deliberate=not self._host_timeout(reason)))
            case wire.TokenLost(reason=reason):
                self._post(ev.ParticipantLost(reason))
            case wire.RemoteOffer(sdp=sdp):
                token = self._conference.token if self._conference else None
                if token is not None:
                    self._cancel_named("set-up")
                    self._spawn(self._answer_offer(token, sdp), name="answer-offer")
            case wire.RemoteCandidate(candidate=candidate, mid=mid):
                self._spawn(self._add_candidate(candidate, mid), name="remote-candidate")
            case wire.PeerGone():
                # Direct media: the far end's browser left or restarts. As Pexip's clients do
                # (PexRTC hangs up and calls again, Android restarts its peer connection),
                # rebuild the call at once; the far end's new offer then pairs with it.
                log.info("direct media: the far end's peer connection went away")
                if self._admitted:
                    self._lost_for_good()
            case wire.CallDropped():
                # The node hung up our media but kept the participant: rebuild like an outage.
                self._lost_for_good()
            case _:
                log.info("conference: %s", type(signal).__name__)

    def _host_timeout(self, reason: str) -> bool:
        """Was a removal the node's waiting-for-host timeout, or did someone remove us? Only
        the timeout earns an automatic new knock. Pexip's wording of the timeout is not
        published, so the time waited decides, unless the reason names a person."""
        if self._admitted or self._waiting_since is None:
            return False
        words = reason.lower()
        if "by remote host" in words or "by host" in words or "by the host" in words:
            return False
        waited = self._clock.now() - self._waiting_since
        return "timeout" in words or waited >= HOST_TIMEOUT_SHARE * self._config.lobby_limit_s

    def _cancel_named(self, name: str) -> None:
        for task in list(self._tasks):
            if task.get_name() == name and task is not asyncio.current_task():
                task.cancel()

    def _start_setting_up(self, token: Token) -> None:
        # At once, not in the task: an Admitted already queued must not see an old failure.
        self._setup_failed = False
        self._cancel_named("set-up")
        self._spawn(self._set_up_while_waiting(token), name="set-up")

    async def _set_up_while_waiting(self, token: Token) -> None:
        """Set the call up ahead of admission, retrying with backoff until it works: a node
        that fails once must not leave an admitted patient without picture or sound."""
        attempt = 0
        while not self._ended:
            self._setup_failed = False
            if await self._set_up_call(token):
                return
            self._setup_failed = True
            if self._admitted:
                self._lost_for_good()
                return
            attempt += 1
            await self._media_clock.sleep(min(SETUP_RETRY_STEP_S * 2 ** (attempt - 1), 30.0))

    async def _answer_offer(self, token: Token, offer: str) -> None:
        self._setup_failed = False
        if not await self._set_up_call(token, remote_offer=offer):
            self._setup_failed = True
            if self._admitted:
                self._lost_for_good()

    async def _replace_call(self, token: Token) -> Call:
        """Make a new call with fresh tracks, then close the one we had (if any). The new
        call is in place before the first await, so a trickled candidate that arrives while
        the old one closes goes to the new one."""
        assert self._conference is not None
        self._call_ready.clear()
        old = self._call
        camera_track = CameraVideoTrack(self._camera)
        call = Call(
            camera_track,
            MicrophoneAudioTrack(self._audio),
            self._audio,
            ice_config(token, self._config),
            mend_gaps=self._watch_media_enabled,
        )
        self._call = call
        self.calls_built += 1
        self._camera_track = camera_track
        if old is not None:
            self._keep_counts(old)
            await old.close()
        return call

    def _adapt_quality(self, call: Call) -> None:
        """From the moment media flows: send what the network and the CPU can carry."""
        self._cancel_named("send-quality")
        assert self._camera_track is not None
        self._quality = QualityController(
            call.outbound_video,
            self._camera_track,
            policy=QualityPolicy(pinned=self._send_format),
        )
        self._quality.show_id(self._showing_id)
        self._spawn(self._quality.run(), name="send-quality")

    def show_id(self, showing: bool) -> None:
        """The patient holds an ID card up: send the sharpest frames the link allows."""
        self._showing_id = showing
        if self._quality is not None:
            self._quality.show_id(showing)

    async def _set_up_call(self, token: Token, remote_offer: str | None = None) -> bool:
        """The one call set-up path: a fresh peer connection, then either our offer (both
        modes start so) or, in direct media, our answer to the far end's offer."""
        assert self._conference is not None
        had_call = self._call is not None
        call = await self._replace_call(token)
        if had_call and remote_offer is None:
            # The node replaces a participant's call when a new one is placed, so telling it
            # about the old one is a courtesy that must not hold up the new call while the
            # network is still out. A far end's new offer comes on the call we have.
            try:
                await asyncio.wait_for(self._conference.hang_up(), HANG_UP_COURTESY_S)
            except TimeoutError:
                pass
            except asyncio.CancelledError:
                # A request cut short under us is no reason to stop; our own cancellation is.
                if caller_cancelled():
                    raise
        try:
            if remote_offer is not None:
                async with asyncio.timeout(CALL_SETUP_LIMIT_S):
                    await connect_direct(call, self._conference, remote_offer)
            else:
                # Making the offer is local work inside `connect`; the limit is for the node.
                async with asyncio.timeout(CALL_SETUP_LIMIT_S):
                    if not await connect(call, self._conference):
                        # Direct media: the node ignored our offer; the far end's offer
                        # comes as a RemoteOffer and is answered on a fresh peer connection.
                        log.info("direct media: waiting for the far end's offer")
                        return True
        except (wire_errors.PexipError, CallError, OSError, TimeoutError, ValueError) as exc:
            log.warning("setting up the call failed: %s", type(exc).__name__)
            return False
        self._call_ready.set()
        self._adapt_quality(call)
        return True

    async def _add_candidate(self, candidate: str, mid: str) -> None:
        call = self._call
        if call is None:
            return
        try:
            await call.add_remote_candidate(candidate, mid)
        except (CallError, ValueError) as exc:
            log.info("a remote candidate was not applied: %s", type(exc).__name__)

    async def _watch_media(self) -> None:
        """From admission on: announce the call's first picture, then watch that media keeps
        arriving and report an outage (once per call; the session then rebuilds it)."""
        await self._call_ready.wait()
        call = self._call
        if call is None:
            return
        first = self._spawn(self._announce_first_frame(call))
        if not self._watch_media_enabled:
            return
        watch = InboundWatch(
            self._media_clock,
            window_s=OUTAGE_WINDOW_S,
            watched=WATCHED,
            windows={"video_frames": FROZEN_PICTURE_S},
            rtp_gap_s=RTP_GAP_S,
        )
        watch.expect(True)
        outage = asyncio.Event()

        def on_change(change: HealthChange) -> None:
            if change.health is Health.OUTAGE and not outage.is_set():
                log.warning("no inbound %s: declaring a media outage", ",".join(change.stalled))
                outage.set()
                self._post(ev.MediaLost())

        watcher = self._spawn(watch_call(call, watch, on_change, self._media_clock))
        try:
            await outage.wait()
        finally:
            first.cancel()
            watcher.cancel()

    async def _announce_first_frame(self, call: Call) -> None:
        # The long deadline is only a backstop: a call that shows nothing is the liveness
        # watch's to declare lost, and a rebuilt call cancels this wait.
        await call.wait_first_video(timeout=3600.0)
        self._post(ev.CallMediaStarted())

    def _lost_for_good(self) -> None:
        self._call_dead = True
        self._post(ev.MediaLost())

    def rebuild_call(self) -> None:
        """After an outage: the call we had if media comes back on it, else a new peer
        connection and offer for the same participant (engine.recovery); either way the
        patient stays admitted. One recovery at a time: a retry asked for meanwhile is
        already being done. The recovery is the consultation's own task, so ending the
        consultation ends it too."""
        if self._client is None or self._ended:
            return
        if any(t.get_name() == "recover" and not t.done() for t in self._tasks):
            return
        self._spawn(self._recover(), name="recover")

    async def _recover(self) -> None:
        assert self._client is not None
        self._cancel_named("watch-media")
        old = None if self._call_dead else self._call
        self._call_dead = False
        outcome = await recover(old, self._client.reachable)
        if (
            outcome is Recovery.RESUMED
            and old is not None
            and old is self._call
            and not self._ended
        ):
            log.info("media flows again on the call we had")
            self._post(ev.MediaRestored())
            self._spawn(self._refresh_consent(old), name="consent")
        else:
            token = self._conference.token if self._conference is not None else None
            if token is None or self._ended:
                return
            if not await self._set_up_call(token):
                self._lost_for_good()
        if self._admitted:
            self._spawn(self._watch_media(), name="watch-media")

    async def end(self) -> bool:
        """Hang up, release the token and close everything; True unless a token was held and
        the node did not take it back. Never raises; a second call waits for the first."""
        if self._ending is None:
            self._ending = asyncio.ensure_future(self._end())
        return await asyncio.shield(self._ending)

    async def _end(self) -> bool:
        self._ended = True
        await cancel_and_wait(*self._tasks)
        call = self._call
        if call is not None:
            self._keep_counts(call)
            with contextlib.suppress(Exception):
                await call.close()
        released = True
        if self._conference is not None:
            released = await self._conference.leave()
        if self._client is not None:
            await self._client.close()
        return released

    def _keep_counts(self, call: Call) -> None:
        self._video_frames += call.remote_video_frames
        self._audio_frames += call.remote_audio_frames
        self._call = None if call is self._call else self._call

    async def _refresh_consent(self, call: Call) -> None:
        # The outage's failed consent checks still count against the call we kept: another
        # outage soon after would end it halfway through.
        refreshed = await call.refresh_consent()
        log.info("ICE consent after the outage: %s", "refreshed" if refreshed else "not refreshed")

    def _spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
