"""An engine for UI tests: the real session machine, with the world scripted.

It applies `kiosk.session.transition` to every intent the UI sends, answers the commands the
way the real engine does where no network is involved (checks finish, a knock is answered,
the wipe completes) and lets the test inject the rest (Admitted, MediaLost, ...). Frames are
synthetic RGB pictures with sequence numbers, as the camera hub and the call deliver them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.config import KioskConfig
from kiosk.engine.view import DeviceNotice, RgbFrame
from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.machine import initial_state, transition
from kiosk.session.state import CheckLine, CheckStatus, CheckSummary, ErrorKind, SessionState
from kiosk.vision.idcard import CardStatus

GOOD_CHECKS = CheckSummary(
    camera_ok=True,
    microphone_ok=True,
    lines=(
        CheckLine("camera", CheckStatus.PASS, "camera.ok"),
        CheckLine("light", CheckStatus.WARN, "light.backlit"),
        CheckLine("framing", CheckStatus.PASS, "framing.ok"),
        CheckLine("microphone", CheckStatus.PASS, "microphone.ok"),
        CheckLine("speaker", CheckStatus.WARN, "speaker.confirm"),
    ),
)


def synthetic_frame(width: int, height: int, seq: int, tint: tuple[int, int, int]) -> RgbFrame:
    """A gradient with a moving bar: several colours, clearly not blank."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[..., 0] = (x * tint[0] / 255).astype(np.uint8)
    frame[..., 1] = (y * tint[1] / 255).astype(np.uint8)
    frame[..., 2] = tint[2]
    bar = (seq * 7) % max(1, width - 20)
    frame[:, bar : bar + 20] = 255
    return frame


@dataclass
class ScriptedEngine:
    config: KioskConfig = field(
        default_factory=lambda: KioskConfig(clinic_phone="22 11 44 00", allowed_hosts=("x",))
    )
    checks: CheckSummary = GOOD_CHECKS
    join_result: ErrorKind | None = None  # None: the knock succeeds
    answer_knocks: bool = True  # False: the test answers the knock itself (to see JOINING)
    # As the real engine with espeak-ng: every language but Northern Sami can be read aloud.
    devices: DeviceNotice = field(
        default_factory=lambda: DeviceNotice(read_aloud_languages=frozenset({"nb", "nn", "en"}))
    )
    clock: Clock = field(default_factory=MonotonicClock)
    camera_size: tuple[int, int] = (640, 480)
    remote_size: tuple[int, int] = (640, 360)
    frames_on: bool = True
    # One picture each, never changing (for screenshots compared with reviewed ones); a
    # camera picture of the test's own instead of the generated one.
    still: bool = False
    camera_picture: RgbFrame | None = None
    # What the ID-card guide and the connection badge report; set by the test.
    card: CardStatus | None = None
    quality: str = "good"
    # None: the PIN pad refuses every PIN; else the PIN it accepts.
    pin: str | None = None
    # Whole histories for the tests to assert.
    intents: list[ev.Intent] = field(default_factory=list)
    commands: list[cmd.Command] = field(default_factory=list)
    phases: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._state = initial_state(language=self.config.default_language)
        self._listeners: list[Callable[[SessionState], None]] = []
        self._seq = 0
        self.phases.append(self._state.phase.value)

    @property
    def state(self) -> SessionState:
        return self._state

    def subscribe(self, listener: Callable[[SessionState], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def send(self, intent: ev.Intent) -> None:
        self.intents.append(intent)
        asyncio.get_running_loop().call_soon(self.inject, intent)

    def inject(self, event: ev.Event) -> None:
        step = transition(self._state, event, self.clock.now())
        if step.state != self._state:
            if step.state.phase is not self._state.phase:
                self.phases.append(step.state.phase.value)
            self._state = step.state
            for listener in list(self._listeners):
                listener(step.state)
        for command in step.commands:
            self.commands.append(command)
            self._answer(command)

    def publish(self, **changes: object) -> None:
        """Show the UI the current state with `changes` (an error kind, a notice, check lines):
        for walking every variant of a screen without replaying the journey to each."""
        self._state = dataclasses.replace(self._state, **changes)  # type: ignore[arg-type]
        for listener in list(self._listeners):
            listener(self._state)

    def _answer(self, command: cmd.Command) -> None:
        loop = asyncio.get_running_loop()
        if isinstance(command, cmd.RunChecks):
            loop.call_later(0.05, self.inject, ev.ChecksFinished(self.checks))
        elif isinstance(command, cmd.Knock) and self.answer_knocks:
            answer: ev.Event = (
                ev.Knocked() if self.join_result is None else ev.JoinFailed(self.join_result)
            )
            loop.call_later(0.05, self.inject, answer)
        elif isinstance(command, cmd.Wipe):
            loop.call_later(0.05, self.inject, ev.Wiped())
        elif isinstance(command, cmd.CheckPin):
            loop.call_later(0.05, self.inject, ev.PinChecked(command.pin == self.pin))

    def self_view_frame(self) -> tuple[int, RgbFrame] | None:
        if not self.frames_on:
            return None
        self._seq += 0 if self.still else 1
        if self.camera_picture is not None:
            return self._seq, self.camera_picture
        return self._seq, synthetic_frame(*self.camera_size, self._seq, (255, 160, 60))

    def remote_frame(self) -> tuple[int, RgbFrame] | None:
        if not self.frames_on:
            return None
        return self._seq, synthetic_frame(*self.remote_size, self._seq, (60, 200, 255))

    def card_status(self) -> CardStatus | None:
        return self.card if self._state.show_id else None

    def connection_quality(self) -> str:
        return self.quality if self._state.phase.value in ("in_call", "reconnecting") else ""
