"""The kiosk's Kivy app: a thin view over the engine, on the engine's asyncio loop.

Run it with `await KioskApp(engine).async_run(async_lib="asyncio")`. It shows the screen of
the session's phase, sends the patient's taps as intents, draws the engine's video frames and
tells the caller when the start screen is first drawn (`on_first_frame`, for READY=1) and
once a second from the UI loop (`on_ui_tick`, for WATCHDOG=1).
"""

from __future__ import annotations

import os

# Before kivy is imported: no command-line parsing, no log files (nothing on disk), no
# escape-to-exit, and Kivy's messages go through Python logging like everyone else's, so the
# kiosk's redacting formatter sees them (Kivy's own console handler would print records as they
# are, and turn the root logger up to debug).
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_NO_CONFIG", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
# No multisampling: the screens are flat colour, text and video, which gain nothing from it, and
# a terminal without a GPU driver (software rendering) pays for every sample on each buffer swap,
# on the loop that also carries the call.
os.environ.setdefault("KCFG_GRAPHICS_MULTISAMPLES", "0")

import logging
import math
import time
from collections.abc import Callable
from typing import Any

from kivy.app import App
from kivy.clock import Clock, ClockEvent
from kivy.config import Config
from kivy.core.window import Window
from kivy.factory import Factory
from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from kiosk import __version__
from kiosk.engine.view import DeviceNotice, EngineView
from kiosk.session import events as ev
from kiosk.session.state import Phase, SessionState
from kiosk.ui.i18n import ASSETS, N_, Catalogues, Translations
from kiosk.ui.keys import KeyboardLock
from kiosk.ui.messages import card_hint, device_notices, format_elapsed, notice_message
from kiosk.ui.pace import DrawPace
from kiosk.ui.screens import (
    SCREENS,
    InCallScreen,
    PhaseScreen,
    StaffPinScreen,
    WaitingScreen,
)
from kiosk.ui.theme import THEME, Theme
from kiosk.ui.video import VideoFeed
from kiosk.ui.widgets import (  # noqa: F401 - used by the KV rules
    BusySpinner,
    CheckLineView,
    CornerGesture,
    KioskButton,
    Overlay,
)

Config.set("kivy", "exit_on_escape", "0")

log = logging.getLogger(__name__)

KV_DIR = ASSETS / "kv"
# Shared rules first; then one file per screen.
KV_FILES = ("common.kv", *(f"{phase.value}.kv" for phase in SCREENS), "root.kv")
VIDEO_HZ = 20.0
# Each catalogue holds its own name for its language.
LANGUAGE_NAME = N_("This language's name")
NOTICE_PHASES = frozenset({Phase.CHECKS, Phase.JOINING, Phase.WAITING, Phase.IN_CALL})
SELF_VIEW_PHASES = frozenset({Phase.CHECKS, Phase.WAITING, Phase.IN_CALL, Phase.RECONNECTING})
LARGE_TEXT_SCALE = 1.3
# After admission in a nurse-assisted session, how long the call screen tells the nurse to go.
NURSE_HINT_S = 20.0


class KioskApp(App):  # type: ignore[misc]
    title = "Kiosk"
    t = ObjectProperty(Translations())
    language = StringProperty("nb")
    state = ObjectProperty(SessionState(), rebind=True)
    notice_text = StringProperty("")
    clinic_phone = StringProperty("")
    # Every font size in the KV rules is multiplied by this (large text: ~1.3, live).
    font_scale = NumericProperty(1.0)
    # Message id of the refusal or PIN notice for the current screen ("" for none).
    state_notice = StringProperty("")
    # The idle warning's countdown in whole seconds.
    idle_left = NumericProperty(0)
    # The ID-card guide's one live hint (message id) and whether the card is good.
    card_hint = StringProperty("")
    card_good = BooleanProperty(False)
    connection = StringProperty("")  # "good" | "fair" | "poor" | ""
    devices = ObjectProperty(DeviceNotice())
    version = StringProperty(__version__)

    def __init__(self, engine: EngineView, fullscreen: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.engine = engine
        self.fullscreen = fullscreen
        self.theme: Theme = THEME
        self.catalogues = Catalogues(engine.config.languages)
        self.clinic_phone = engine.config.clinic_phone
        self.on_first_frame: Callable[[], None] | None = None
        self.on_ui_tick: Callable[[], None] | None = None
        self.self_feed = VideoFeed(engine.self_view_frame, mirrored=True)
        self.remote_feed = VideoFeed(engine.remote_frame)
        self.screens: dict[Phase, PhaseScreen] = {}
        self._keyboard = KeyboardLock(self)
        self._unsubscribe: Callable[[], None] | None = None
        self._clock_events: list[ClockEvent] = []
        self._devices = DeviceNotice()
        self._session_number = -1
        self._idle_warning_since: float | None = None
        self._first_frame_sent = False
        self._draw_pace = DrawPace(max_hz=VIDEO_HZ)
        self._window_flip: Callable[[], None] | None = None
        self._drawing_slow = False
        self._loaded_kv: list[str] = []

    # -- what the KV files call ---------------------------------------------------------------

    def send(self, intent: ev.Intent) -> None:
        self.engine.send(intent)

    def language_name(self, code: str) -> str:
        return self.catalogues.gettext(code, LANGUAGE_NAME)

    def tr(self, message: str, **values: object) -> str:
        text: str = self.t[message]
        return text.format(**values) if values else text

    def fmt(self, text: str, **values: object) -> str:
        """Fill a translated text's placeholders. KV rules write `app.fmt(app.t["..."], x=1)`
        rather than `app.tr(...)` so that the rule follows a change of language."""
        return text.format(**values)

    # -- life cycle ---------------------------------------------------------------------------

    def build(self) -> Any:
        Window.clearcolor = self.theme.background
        if self.fullscreen:
            Window.fullscreen = "auto"
            Window.show_cursor = False
        for name in KV_FILES:
            path = str(KV_DIR / name)
            Builder.load_file(path)
            self._loaded_kv.append(path)
        root = Factory.KioskRoot()
        manager = root.ids.screens
        for phase, screen_class in SCREENS.items():
            screen = screen_class(name=phase.value)
            self.screens[phase] = screen
            manager.add_widget(screen)
        self.root = root
        self._keyboard.attach(Window)
        self._unsubscribe = self.engine.subscribe(self._show)
        self._show(self.engine.state)
        self._clock_events = [
            Clock.schedule_interval(self._poll_video, 1.0 / VIDEO_HZ),
            Clock.schedule_interval(self._tick, 1.0),
            Clock.schedule_interval(self._update_clock_texts, 0.25),
        ]
        Window.bind(on_flip=self._on_flip)
        self._window_flip = Window.flip
        Window.flip = self._timed_flip
        return root

    def _timed_flip(self) -> None:
        flip = self._window_flip
        if flip is None:
            return
        started = time.perf_counter()
        flip()
        self._draw_pace.presented(time.perf_counter() - started)
        slow = self._draw_pace.interval_s > 1.5 / VIDEO_HZ
        if slow != self._drawing_slow:
            # Worth knowing for IT: a terminal this slow to draw has no working GPU driver.
            self._drawing_slow = slow
            log.info(
                "drawing %s: a frame takes %.0f ms to present, video redrawn every %.0f ms",
                "slow" if slow else "fast again",
                self._draw_pace.median_s * 1000,
                self._draw_pace.interval_s * 1000,
            )

    def on_stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for event in self._clock_events:
            event.cancel()
        self._clock_events = []
        Window.unbind(on_flip=self._on_flip)
        if self._window_flip is not None:
            Window.flip = self._window_flip
            self._window_flip = None
        self._keyboard.detach(Window)
        self.self_feed.clear()
        self.remote_feed.clear()
        for path in self._loaded_kv:
            Builder.unload_file(path)
        self._loaded_kv = []

    # -- state down ---------------------------------------------------------------------------

    def _show(self, state: SessionState) -> None:
        if state.session_number != self._session_number or state.phase is Phase.WIPING:
            # A new patient: nothing of the last one may stay on screen or in a texture.
            self.self_feed.clear()
            self.remote_feed.clear()
            self.card_hint, self.card_good = "", False
            if state.session_number != self._session_number:
                for other in self.screens.values():
                    other.show(state)
            self._session_number = state.session_number
        if state.language != self.language or not self.t:
            self._set_language(state.language)
        if state.idle_warning and self._idle_warning_since is None:
            self._idle_warning_since = self.engine.clock.now()
        elif not state.idle_warning:
            self._idle_warning_since = None
        self.font_scale = LARGE_TEXT_SCALE if state.large_text else 1.0
        self.state_notice = notice_message(state.notice)
        self.state = state
        # A phase without a screen of its own gets the neutral one rather than a stale screen.
        screen = self.screens.get(state.phase) or self.screens[Phase.WIPING]
        screen.show(state)
        manager = self.root.ids.screens if self.root else None
        if manager is not None and manager.current != screen.name:
            manager.current = screen.name
            log.info("screen %s", screen.name)
        self._update_notices()
        self._update_clock_texts()

    def _set_language(self, language: str) -> None:
        if language not in self.catalogues.languages:
            log.warning("no catalogue for language %r; keeping %r", language, self.language)
            return
        self.language = language
        self.t = Translations(self.catalogues.messages(language))
        self._update_notices()

    def _update_notices(self) -> None:
        notices = device_notices(self._devices) if self.state.phase in NOTICE_PHASES else ()
        self.notice_text = "\n".join(self.t[notice] for notice in notices)

    # -- clocks -------------------------------------------------------------------------------

    def _poll_video(self, _dt: float) -> None:
        now = time.monotonic()
        if not self._draw_pace.due(now):
            return
        phase = self.state.phase
        drew = phase in SELF_VIEW_PHASES and self.self_feed.poll()
        drew = (phase is Phase.IN_CALL and self.remote_feed.poll()) or drew
        if drew:
            self._draw_pace.drawn(now)
        if self.state.show_id and phase in (Phase.IN_CALL, Phase.RECONNECTING):
            status = self.engine.card_status()
            self.card_hint = card_hint(status.hint if status is not None else None)
            self.card_good = status is not None and status.hint == "card.good"
        elif self.card_hint:
            self.card_hint, self.card_good = "", False

    def _update_clock_texts(self, *_args: object) -> None:
        state, now = self.state, self.engine.clock.now()
        screen = self.screens.get(state.phase)
        if isinstance(screen, WaitingScreen):
            screen.elapsed = format_elapsed(now - state.phase_since)
        elif isinstance(screen, StaffPinScreen):
            screen.wait_s = max(0, math.ceil(state.pin_locked_until - now))
        elif isinstance(screen, InCallScreen):
            started = state.call_started_at
            screen.nurse_may_leave = (
                state.assisted and started is not None and now - started < NURSE_HINT_S
            )
        if self._idle_warning_since is not None:
            left = state.timing.idle_warning_s - (now - self._idle_warning_since)
            self.idle_left = max(0, math.ceil(left))

    def _tick(self, _dt: float) -> None:
        devices = self.engine.devices
        if devices != self._devices:
            self._devices = devices
            self.devices = devices
            self._update_notices()
        self.connection = self.engine.connection_quality()
        if self.on_ui_tick is not None:
            self.on_ui_tick()

    def _on_flip(self, *_args: object) -> None:
        if self._first_frame_sent or self.state.phase is not Phase.IDLE:
            return
        self._first_frame_sent = True
        Window.unbind(on_flip=self._on_flip)
        if self.on_first_frame is not None:
            self.on_first_frame()
