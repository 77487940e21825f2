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
from kiosk.ui.messages import (
    card_hint,
    check_lines,
    device_notices,
    format_elapsed,
    notice_message,
)
from kiosk.ui.pace import DrawPace
from kiosk.ui.screens import (
    SCREENS,
    InCallScreen,
    PhaseScreen,
    StaffPinScreen,
    WaitingScreen,
)
from kiosk.ui.sizes import Sizes
from kiosk.ui.spoken import (
    CheckReader,
    idle_warning_reading,
    joined,
    line_reading,
    screen_reading,
)
from kiosk.ui.theme import THEME, Theme
from kiosk.ui.video import FaceFocus, VideoFeed
from kiosk.ui.widgets import (  # noqa: F401 - used by the KV rules
    BusySpinner,
    CheckLineView,
    CornerGesture,
    FitColumn,
    KioskButton,
    KioskLabel,
    Overlay,
    Screens,
)

Config.set("kivy", "exit_on_escape", "0")

log = logging.getLogger(__name__)

KV_DIR = ASSETS / "kv"
# Shared rules first; then one file per screen.
KV_FILES = ("common.kv", *(f"{phase.value}.kv" for phase in SCREENS), "root.kv")
VIDEO_HZ = 20.0
# Each catalogue holds its own name for its language.
LANGUAGE_NAME = N_("This language's name")
# Not on the check screen: its lines say the same about each device, and a small panel has
# no room for both.
NOTICE_PHASES = frozenset({Phase.JOINING, Phase.WAITING, Phase.IN_CALL})
SELF_VIEW_PHASES = frozenset({Phase.CHECKS, Phase.WAITING, Phase.IN_CALL, Phase.RECONNECTING})
# Where the self view is large enough for the crop to follow the face. In the call the CPU
# belongs to the media (a Pi has little to spare), and the small corner picture keeps the
# last place found.
FACE_FOLLOW_PHASES = frozenset({Phase.CHECKS, Phase.WAITING})
# In the call the small mirror is redrawn with the clinician's picture, not between its
# frames: two 15 fps pictures out of step cost a redraw each (18 a second, not 15). Only when
# the clinician's picture has not changed for this long does the mirror draw on its own.
MIRROR_ALONE_S = 0.25
LARGE_TEXT_SCALE = 1.3
# After admission in a nurse-assisted session, how long the call screen tells the nurse to go.
NURSE_HINT_S = 20.0
NO_VOICE = N_("Reading aloud is not available in this language.")
NO_SYNTHESISER = N_("Reading aloud is not available on this kiosk.")
HELP_PHONE = N_("Need help? Call the clinic on {phone}.")
HELP_STAFF = N_("Need help? Ask the staff at the health station.")


class KioskApp(App):  # type: ignore[misc]
    title = "Kiosk"
    t = ObjectProperty(Translations())
    language = StringProperty("nb")
    state = ObjectProperty(SessionState(), rebind=True)
    notice_text = StringProperty("")
    clinic_phone = StringProperty("")
    # Large text: every font is this much larger (~1.3), live.
    font_scale = NumericProperty(1.0)
    # Pixel sizes for the window the kiosk has and the text size chosen (see sizes.py).
    sizes = ObjectProperty(None)
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
    # Whether the session's language can be read aloud, and if not, the message id saying so.
    can_read_aloud = BooleanProperty(False)
    read_aloud_notice = StringProperty("")

    def __init__(self, engine: EngineView, fullscreen: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.engine = engine
        self.fullscreen = fullscreen
        self.theme: Theme = THEME
        self.sizes = Sizes(self.theme)
        self.catalogues = Catalogues(engine.config.languages)
        self.clinic_phone = engine.config.clinic_phone
        self.on_first_frame: Callable[[], None] | None = None
        self.on_ui_tick: Callable[[], None] | None = None
        self.self_feed = VideoFeed(engine.self_view_frame, mirrored=True)
        self.remote_feed = VideoFeed(engine.remote_frame)
        self.face_focus = FaceFocus(mirrored=True)
        self.screens: dict[Phase, PhaseScreen] = {}
        self._keyboard = KeyboardLock(self)
        self._unsubscribe: Callable[[], None] | None = None
        self._clock_events: list[ClockEvent] = []
        self._devices = DeviceNotice()
        self._session_number = -1
        self._idle_warning_since: float | None = None
        self._first_frame_sent = False
        self._draw_pace = DrawPace(max_hz=VIDEO_HZ)
        # Passes of the video poll that were allowed to draw: after one that began once the
        # screen had changed, its pictures are the newest there are.
        self.video_polls = 0
        self._remote_drawn_at = -math.inf
        # Frames presented (buffer swaps), for what a redraw costs.
        self.presented = 0
        self._window_flip: Callable[[], None] | None = None
        self._drawing_slow = False
        self._loaded_kv: list[str] = []
        # What was last read aloud for: the screen (session, phase, language, error, waiting
        # again) and whether the idle warning was up.
        self._read_screen: tuple[object, ...] | None = None
        self._read_warning = False
        self._check_reader = CheckReader()

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
            # The display's own mode, whatever the panel (KMS/DRM and X11 alike); the
            # layout follows the size the window then gets.
            Window.fullscreen = "auto"
            Window.show_cursor = False
        self.sizes.update(window=tuple(Window.size))
        Window.bind(size=self._on_window_size)
        for name in KV_FILES:
            path = str(KV_DIR / name)
            Builder.load_file(path)
            self._loaded_kv.append(path)
        self._devices = self.devices = self.engine.devices
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
        self.presented += 1
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
        Window.unbind(on_flip=self._on_flip, size=self._on_window_size)
        if self._window_flip is not None:
            Window.flip = self._window_flip
            self._window_flip = None
        self._keyboard.detach(Window)
        self.self_feed.clear()
        self.remote_feed.clear()
        self.face_focus.close()
        for path in self._loaded_kv:
            Builder.unload_file(path)
        self._loaded_kv = []

    # -- state down ---------------------------------------------------------------------------

    def _show(self, state: SessionState) -> None:
        if state.session_number != self._session_number or state.phase is Phase.WIPING:
            # A new patient: nothing of the last one may stay on screen or in a texture.
            self.self_feed.clear()
            self.remote_feed.clear()
            self.face_focus.clear()
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
        font_scale = LARGE_TEXT_SCALE if state.large_text else 1.0
        if font_scale != self.font_scale:
            self.font_scale = font_scale
            self.sizes.update(text_factor=font_scale)
        self.state_notice = notice_message(state.notice)
        self.state = state
        self._update_read_aloud()
        # A phase without a screen of its own gets the neutral one rather than a stale screen.
        screen = self.screens.get(state.phase) or self.screens[Phase.WIPING]
        screen.show(state)
        manager = self.root.ids.screens if self.root else None
        if manager is not None and manager.current != screen.name:
            manager.current = screen.name
            log.info("screen %s", screen.name)
        self._update_notices()
        self._update_clock_texts()
        self._read_aloud(state)

    def _read_aloud(self, state: SessionState) -> None:
        """Ask for the screen's instruction to be read when a screen appears (or the language
        or the choice changes), the idle warning when it comes up, and the checks' advice as
        it settles. The session decides whether anything is spoken."""
        if not (state.read_aloud and self.can_read_aloud):
            self._read_screen, self._read_warning = None, False
            self._check_reader.reset()
            return
        screen = (
            state.session_number,
            state.phase,
            state.language,
            state.error,
            state.call_started_at is not None,
        )
        if screen != self._read_screen:
            self._read_screen = screen
            self._check_reader.reset()
            text = screen_reading(state, self.tr, self._help_text())
            if text:
                self.send(ev.ReadAloud(text))
        if state.idle_warning and not self._read_warning:
            self.send(ev.ReadAloud(idle_warning_reading(state, self.tr)))
        self._read_warning = state.idle_warning
        if state.phase is Phase.CHECKS:
            if state.checks is None:
                self._check_reader.reset()
                return
            due = self._check_reader.update(check_lines(state.checks))
            if due:
                text = joined([line_reading(line, self.tr) for line in due])
                self.send(ev.ReadAloud(text, queue=True))

    def _help_text(self) -> str:
        if self.clinic_phone:
            return self.tr(HELP_PHONE, phone=self.clinic_phone)
        return self.tr(HELP_STAFF)

    def _update_read_aloud(self) -> None:
        spoken = self._devices.read_aloud_languages
        self.can_read_aloud = self.state.language in spoken
        self.read_aloud_notice = (
            "" if self.can_read_aloud else NO_VOICE if spoken else NO_SYNTHESISER
        )

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
        # The guide's words follow the card at once; only the pictures wait for the pace.
        self._update_card_hint()
        now = time.monotonic()
        if not self._draw_pace.due(now):
            return
        self.video_polls += 1
        phase = self.state.phase
        drew = False
        if phase is Phase.IN_CALL and self.remote_feed.poll():
            drew = True
            self._remote_drawn_at = now
        # While the patient shows ID the mirror is the large picture: it keeps its own pace.
        mirror_follows = phase is Phase.IN_CALL and not self.state.show_id
        mirror_due = drew or not mirror_follows or now - self._remote_drawn_at > MIRROR_ALONE_S
        if phase in SELF_VIEW_PHASES and mirror_due and self.self_feed.poll():
            drew = True
            latest = self.self_feed.latest
            if latest is not None and phase in FACE_FOLLOW_PHASES:
                self.face_focus.offer(latest)
        if drew:
            self._draw_pace.drawn(now)

    def _update_card_hint(self) -> None:
        if self.state.show_id and self.state.phase in (Phase.IN_CALL, Phase.RECONNECTING):
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
            self._update_read_aloud()
        self.connection = self.engine.connection_quality()
        if self.on_ui_tick is not None:
            self.on_ui_tick()

    def _on_window_size(self, _window: object, size: tuple[int, int]) -> None:
        self.sizes.update(window=tuple(size))

    def _on_flip(self, *_args: object) -> None:
        if self._first_frame_sent or self.state.phase is not Phase.IDLE:
            return
        self._first_frame_sent = True
        Window.unbind(on_flip=self._on_flip)
        if self.on_first_frame is not None:
            self.on_first_frame()
