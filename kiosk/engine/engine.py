"""The engine: one asyncio loop that feeds events to the session machine and carries out
the commands it returns, publishing every new state to the UI."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import importlib
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.base.memory import release_free_memory
from kiosk.base.privacy import SESSION_SECRETS
from kiosk.base.tasks import cancel_and_wait
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub, CameraState
from kiosk.devices.frames import to_rgb
from kiosk.devices.speech import SpeechPlayer, spoken_languages
from kiosk.engine.staff_pins import StaffPins
from kiosk.engine.timers import PhaseTimers, timing_from
from kiosk.engine.view import DeviceNotice, RgbFrame
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.machine import SessionError, initial_state, transition
from kiosk.session.state import ErrorKind, Phase, SessionState
from kiosk.vision.idcard import CardStatus

if TYPE_CHECKING:
    from kiosk.engine.camera_vision import CardWatcher
    from kiosk.engine.consultation import Consultation
    from kiosk.media.tracks import SendFormat

log = logging.getLogger(__name__)

# With reading aloud on, the checks wait for the screen's reading: this long for it to begin
# (the screen asks as it appears), at most this long for it to end.
SPEECH_GRACE_S = 0.5
SPEECH_LIMIT_S = 15.0

# What the start screen does not need (the checks, the camera readers, the call with its wire
# client: aiortc, PyAV, aiohttp, zbar), imported where first used or ahead of that by
# `Engine.preload`; importing them first put most of a second before the start screen here.
LATER = (
    "kiosk.engine.checks_runner",
    "kiosk.engine.camera_vision",
    "kiosk.engine.consultation",
    "kiosk.pexip.url_cache",
)


def _import_later() -> None:
    for name in LATER:
        importlib.import_module(name)


@dataclass
class JourneyRecord:
    """What happened in sessions, for the headless demo and the benchmarks. No personal data."""

    phases: list[str] = field(default_factory=list)
    continue_at: float | None = None
    knocked_at: float | None = None
    admitted_at: float | None = None
    first_remote_frame_at: float | None = None
    remote_video_frames: int = 0
    remote_audio_frames: int = 0
    tokens_released: bool = False
    wiped: bool = False


class Engine:
    def __init__(
        self,
        config: KioskConfig,
        camera: CameraHub,
        audio: AudioIO,
        clock: Clock | None = None,
        on_task_failure: Callable[[BaseException], None] | None = None,
        watch_media: bool = True,
        send_format: SendFormat | None = None,
    ) -> None:
        self._config = config
        self._watch_media = watch_media
        # Only the cost benchmark sets it: calls then send this format and never adapt.
        self._send_format = send_format
        # A failed engine task means the kiosk no longer knows what it is doing; on a terminal
        # this callback ends the process so systemd restarts it onto a clean start screen.
        self._on_task_failure = on_task_failure
        self.task_failures: list[str] = []
        # Consultations ended by an unexpected exception (each one logged with its traceback).
        self.consultation_failures = 0
        self._clock = clock or MonotonicClock()
        self._camera = camera
        self._audio = audio
        self._pins = StaffPins(self._clock)
        self._state = self._pins.restore(
            initial_state(
                timing_from(config), language=config.default_language, read_aloud=config.read_aloud
            )
        )
        self._queue: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._listeners: list[Callable[[SessionState], None]] = []
        self.observer_failures = 0
        self._failed_observers: set[str] = set()
        self._timers = PhaseTimers(
            self._clock, lambda timer: self.post(timer(phase=self._state.phase))
        )
        self._consultation: Consultation | None = None
        self._checks: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._finishing: asyncio.Task[None] | None = None
        self._qr_task: asyncio.Task[None] | None = None
        self._card: CardWatcher | None = None
        self._card_task: asyncio.Task[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._preloading: threading.Thread | None = None
        self.echo_cancel_missing = False
        self._self_view_seq = -1
        self._self_view_rgb: RgbFrame | None = None
        self.speech = SpeechPlayer(audio)
        self._spoken_languages = spoken_languages() & frozenset(config.languages)
        self.record = JourneyRecord(phases=[self._state.phase.value])

    # -- EngineView ---------------------------------------------------------------------------

    @property
    def config(self) -> KioskConfig:
        return self._config

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def state(self) -> SessionState:
        return self._state

    @property
    def devices(self) -> DeviceNotice:
        return DeviceNotice(
            camera_synthetic=self._camera.synthetic,
            camera_unplugged=self._camera.state is CameraState.UNPLUGGED,
            microphone_missing=self._audio.microphone_missing,
            speaker_missing=self._audio.speaker_missing,
            echo_cancel_missing=self.echo_cancel_missing,
            read_aloud_languages=self._spoken_languages,
        )

    def subscribe(self, listener: Callable[[SessionState], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def send(self, intent: ev.Intent) -> None:
        self.post(intent)

    def self_view_frame(self) -> tuple[int, RgbFrame] | None:
        frame = self._camera.latest()
        if frame is None:
            return None
        if frame.seq != self._self_view_seq:
            self._self_view_seq, self._self_view_rgb = frame.seq, to_rgb(frame.image)
        assert self._self_view_rgb is not None
        return self._self_view_seq, self._self_view_rgb

    def remote_frame(self) -> tuple[int, RgbFrame] | None:
        consultation = self._consultation
        return consultation.latest_remote_frame() if consultation else None

    def live_media_counts(self) -> tuple[int, int]:
        """Remote video and audio frames of the consultation under way (0, 0 without one)."""
        consultation = self._consultation
        return consultation.media_counts() if consultation else (0, 0)

    def live_video_clock(self) -> tuple[int, float | None]:
        """Calls built for the consultation under way, and the media time of its call's
        newest remote picture (`Consultation.video_clock`)."""
        consultation = self._consultation
        return consultation.video_clock() if consultation else (0, None)

    def live_calls_built(self) -> int:
        """Peer connections made for the consultation under way (0 without one)."""
        consultation = self._consultation
        return consultation.calls_built if consultation else 0

    def apply_config(self, config: KioskConfig) -> None:
        """Take a new configuration; only between sessions, so no patient sees a change."""
        if self._state.phase is not Phase.IDLE:
            raise RuntimeError(
                f"a new configuration needs the kiosk idle (it is {self._state.phase.value})"
            )
        self._config = config
        self._spoken_languages = spoken_languages() & frozenset(config.languages)
        self._state = dataclasses.replace(
            self._state,
            timing=timing_from(config),
            language=config.default_language,
            read_aloud=config.read_aloud,
            read_aloud_default=config.read_aloud,
        )
        self._tell_listeners()

    # -- running ------------------------------------------------------------------------------

    def post(self, event: ev.Event) -> None:
        self._queue.put_nowait(event)

    async def start(self) -> None:
        self._runner = asyncio.get_running_loop().create_task(self._run(), name="engine")

    def preload(self) -> None:
        """Import what a session needs and the start screen does not (`LATER`) on a thread
        of its own, so a patient's tap does not wait for it. With a window, call it once the
        start screen is drawn: before, it competes with drawing it."""
        if self._preloading is None:
            self._preloading = threading.Thread(target=_import_later, name="preload", daemon=True)
            self._preloading.start()

    async def stop(self) -> None:
        # The runner first, so no queued intent starts anything while we take things down.
        if self._runner is not None:
            await cancel_and_wait(self._runner)
        self._timers.cancel_all()
        await self.speech.close()
        if self._checks:
            self._checks.cancel()
        if self._consultation is not None:
            await self._consultation.end()
            self._consultation = None
        if self._finishing is not None:
            await asyncio.gather(self._finishing, return_exceptions=True)
        await cancel_and_wait(*self._background)

    async def wait_for(self, predicate: Callable[[SessionState], bool], timeout: float) -> None:
        """Wait (in real time) until the state satisfies `predicate`."""
        if predicate(self._state):
            return
        changed = asyncio.Event()
        unsubscribe = self.subscribe(lambda s: changed.set() if predicate(s) else None)
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        finally:
            unsubscribe()

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            self._handle(event)

    def _handle(self, event: ev.Event) -> None:
        before = self._state
        if isinstance(event, ev.Timer) and event.phase is not before.phase:
            # It ran out just as its phase ended, and waited in the queue meanwhile.
            log.debug("dropped a timer of phase %s", event.phase)
            return
        try:
            step = transition(before, event, self._clock.now())
        except SessionError as exc:
            # A late or stray event must never stop the kiosk; the table lists the known
            # ones, so anything landing here is worth a warning.
            log.warning("session ignored an event: %s", exc)
            return
        if step.ignored:
            log.debug("session %s ignored %s", before.phase.value, type(event).__name__)
            return
        self._state = step.state
        self._pins.keep(before, step.state)
        if step.state.phase is not before.phase:
            log.info(
                "session %s -> %s on %s",
                before.phase.value,
                step.state.phase.value,
                type(event).__name__,
            )
            self._timers.cancel_all()
            self.record.phases.append(step.state.phase.value)
            self._note_phase(step.state.phase)
        for command in step.commands:
            self._execute(command)
        self._follow_camera(self._state)
        self._tell_listeners()

    def _tell_listeners(self) -> None:
        # Observers (metrics, ctl, the UI's waiters) watch the consultation; none of them may
        # end it. A failing one is logged once with its traceback and counted every time.
        for listener in list(self._listeners):
            try:
                listener(self._state)
            except Exception:
                self.observer_failures += 1
                name = getattr(listener, "__qualname__", type(listener).__name__)
                if name not in self._failed_observers:
                    self._failed_observers.add(name)
                    log.exception(
                        "an observer of the session failed (%s); the consultation goes on", name
                    )

    def _note_phase(self, phase: Phase) -> None:
        now = self._clock.now()
        if phase is Phase.WAITING:
            self.record.knocked_at = now
        elif phase is Phase.IN_CALL and self.record.admitted_at is None:
            self.record.admitted_at = now

    # -- commands -----------------------------------------------------------------------------

    def _execute(self, command: cmd.Command) -> None:
        match command:
            case cmd.StartTimer(timer=timer, seconds=seconds):
                self._timers.start(timer, seconds)
            case cmd.RunChecks():
                self._start_checks()
            case cmd.StopChecks():
                if self._checks is not None:
                    self._checks.cancel()
                    self._checks = None
            case cmd.Knock():
                self._knock(command)
            case cmd.RebuildCall():
                if self._consultation is not None:
                    self._consultation.rebuild_call()
            case cmd.EndCall():
                self._end_consultation()
            case cmd.Wipe():
                self._spawn(self._wipe())
            case cmd.SetVolume(volume=volume):
                self._audio.volume = volume
            case cmd.SetMute(muted=muted):
                self._audio.muted = muted
            case cmd.CheckPin(role=role, pin=pin):
                self._spawn(self._check_pin(role, pin))
            case cmd.Speak(text=text, language=language, queue=queue):
                self.speech.say(text, language, queue=queue)
            case cmd.StopSpeaking():
                self.speech.stop()
            case _:
                raise AssertionError(f"no way to carry out {command!r}")

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        assert exc is not None
        log.error("engine task %s failed", task.get_name(), exc_info=exc)
        self.task_failures.append(f"{task.get_name()}: {type(exc).__name__}")
        if self._on_task_failure is not None:
            self._on_task_failure(exc)

    @property
    def pin_failures_total(self) -> int:
        """Wrong staff PINs since start, for the metrics."""
        return self._pins.failures_total

    async def _check_pin(self, role: str, pin: str) -> None:
        self.post(ev.PinChecked(await StaffPins.check(self._config, role, pin)))

    def _follow_camera(self, after: SessionState) -> None:
        """Start or stop reading the camera for QR join codes and the ID-card guide."""
        scanning = after.phase in (Phase.NUMBER, Phase.NURSE)
        if scanning and self._qr_task is None:
            from kiosk.engine.camera_vision import QrJoinReader

            reader = QrJoinReader(
                self._camera,
                self._config.allowed_hosts,
                urlsplit(self._config.node_url).hostname or "",
                self.post,
            )
            self._qr_task = self._spawn(reader.run())
        elif not scanning and self._qr_task is not None:
            self._qr_task.cancel()
            self._qr_task = None
        showing = after.show_id and after.phase in (Phase.IN_CALL, Phase.RECONNECTING)
        if self._consultation is not None:
            self._consultation.show_id(showing)
        if showing and self._card is None:
            from kiosk.engine.camera_vision import CardWatcher

            self._card = CardWatcher(self._camera)
            self._card_task = self._spawn(self._card.run())
        elif not showing and self._card is not None:
            if self._card_task is not None:
                self._card_task.cancel()
            self._card, self._card_task = None, None

    def card_status(self) -> CardStatus | None:
        """The ID-card guide's current hint while the patient shows a card, else None."""
        return self._card.status if self._card is not None else None

    def connection_quality(self) -> str:
        consultation = self._consultation
        if consultation is None or self._state.phase not in (Phase.IN_CALL, Phase.RECONNECTING):
            return ""
        return consultation.connection_quality()

    def _start_checks(self) -> None:
        from kiosk.engine.checks_runner import live_checks

        async def checks() -> None:
            if self._state.read_aloud:
                # The chime must not talk over the screen being read, nor be measured
                # against it: the checks begin once the reading is done.
                await self.speech.wait_quiet(SPEECH_GRACE_S, SPEECH_LIMIT_S)
            async for summary in live_checks(
                self._camera,
                self._audio,
                self._config,
            ):
                self.post(ev.ChecksFinished(summary))

        if self._checks is not None:
            self._checks.cancel()
        self._checks = self._spawn(checks())

    def _knock(self, knock: cmd.Knock) -> None:
        if self._consultation is not None:
            self._end_consultation()
        self.record.continue_at = self._clock.now()
        SESSION_SECRETS.add(knock.alias, knock.display_name)
        display_name = knock.display_name or self._config.display_name
        from kiosk.engine.consultation import Consultation

        consultation = Consultation(
            config=self._config,
            camera=self._camera,
            audio=self._audio,
            clock=self._clock,
            alias=knock.alias,
            display_name=display_name,
            host=knock.host,
            post=self._post_from_consultation,
            watch_media=self._watch_media,
            send_format=self._send_format,
        )
        self._consultation = consultation
        self._spawn(self._run_guarded(consultation))

    async def _run_guarded(self, consultation: Consultation) -> None:
        """Whatever a peer provokes inside one consultation ends that consultation (the
        patient sees the error screen, the session is wiped as after any end), never the
        process: the next patient still finds a working terminal."""
        try:
            await consultation.run()
        except Exception as exc:
            log.error("consultation ended by an unexpected %s", type(exc).__name__, exc_info=exc)
            self.consultation_failures += 1
            self._post_from_consultation(consultation, ev.JoinFailed(ErrorKind.PROTOCOL))

    def _post_from_consultation(self, consultation: Consultation, event: ev.Event) -> None:
        # Events of a consultation that was ended or replaced must not touch the new session.
        if consultation is self._consultation:
            if isinstance(event, ev.CallMediaStarted) and self.record.first_remote_frame_at is None:
                self.record.first_remote_frame_at = self._clock.now()
            self.post(event)

    def _end_consultation(self) -> None:
        consultation, self._consultation = self._consultation, None
        if consultation is not None:
            self._finishing = self._spawn(self._finish(consultation))

    async def _finish(self, consultation: Consultation) -> None:
        released = await consultation.end()
        video, audio = consultation.media_counts()
        self.record.remote_video_frames += video
        self.record.remote_audio_frames += audio
        self.record.tokens_released = released

    async def _wipe(self) -> None:
        # Let the consultation finish its goodbyes (token released) before forgetting it.
        if self._finishing is not None:
            await asyncio.gather(self._finishing, return_exceptions=True)
            self._finishing = None
        self._consultation = None
        SESSION_SECRETS.clear()
        fresh = SessionState()
        self._audio.volume = fresh.volume
        self._audio.muted = fresh.muted
        self._self_view_rgb = None
        from kiosk.pexip.url_cache import forget_request_urls

        forget_request_urls()
        # The call's buffers are gone now; hand their memory back before the next patient.
        gc.collect()
        release_free_memory()
        self.record.wiped = True
        self.post(ev.Wiped())
