"""The scripted patient: drives an engine through a whole consultation with intents, as the
touch screen would, and measures what the patient would feel."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from kiosk.session.state import Phase, SessionState


class JourneyError(RuntimeError):
    """The journey did not reach a phase it expected in time."""


@dataclass(frozen=True)
class JourneyPlan:
    alias: str
    # The call lasts until both minimums are reached, or this long on a slow machine.
    call_seconds: float = 15.0
    min_video_frames: int = 60
    min_audio_frames: int = 150
    admit_timeout_s: float = 30.0
    # Every wait of the patient multiplied by this: on an emulated or very slow machine the
    # same steps take many times as long.
    patience: float = 1.0


async def _reach(engine: Engine, phase: Phase, timeout: float) -> None:
    try:
        await engine.wait_for(lambda s: s.phase is phase, timeout)
    except TimeoutError as exc:
        raise JourneyError(
            f"expected phase {phase.value} within {timeout:.0f} s "
            f"(stuck in {engine.state.phase.value}, error {engine.state.error})"
        ) from exc


async def knock(engine: Engine, alias: str, checks_timeout: float = 20.0) -> None:
    """Tap, type `alias`, wait for the first check results and knock, as a patient would
    (without waiting for the call)."""
    engine.send(ev.Tap())
    for digit in alias:
        engine.send(ev.Digit(digit))
    engine.send(ev.SubmitNumber())
    await engine.wait_for(lambda s: s.checks is not None, checks_timeout)
    engine.send(ev.Continue())


async def run_journey(engine: Engine, plan: JourneyPlan) -> dict[str, Any]:
    """Tap, type the number, pass the checks, knock, talk, press the yellow button, and
    wait until the terminal is back on its start screen with the session wiped."""
    seen: list[str] = [engine.state.phase.value]

    def note(state: SessionState) -> None:
        if state.phase.value != seen[-1]:
            seen.append(state.phase.value)

    unsubscribe = engine.subscribe(note)
    slow = plan.patience
    try:
        engine.send(ev.Tap())
        await _reach(engine, Phase.NUMBER, 5 * slow)
        for digit in plan.alias:
            engine.send(ev.Digit(digit))
        engine.send(ev.SubmitNumber())
        await _reach(engine, Phase.CHECKS, 5 * slow)
        # A patient goes on once the picture is confirmed; the microphone line keeps waiting
        # for them to speak, which a scripted patient never does.
        await engine.wait_for(lambda s: s.checks is not None and s.checks.camera_ok, 20 * slow)
        checks = engine.state.checks
        continue_at = time.monotonic()
        engine.send(ev.Continue())
        await _reach(engine, Phase.WAITING, 10 * slow)
        knocked_at = time.monotonic()
        await _reach(engine, Phase.IN_CALL, plan.admit_timeout_s * slow)
        admitted_at = time.monotonic()
        await engine.wait_for(lambda s: s.remote_media, 10 * slow)
        first_frame_at = time.monotonic()
        deadline = time.monotonic() + plan.call_seconds
        while time.monotonic() < deadline:
            video, audio = engine.live_media_counts()
            if video >= plan.min_video_frames and audio >= plan.min_audio_frames:
                break
            await asyncio.sleep(0.1)
        engine.send(ev.HangUp())
        await _reach(engine, Phase.ENDED, 5 * slow)
        engine.send(ev.Dismiss())
        await _reach(engine, Phase.IDLE, 10 * slow)
    finally:
        unsubscribe()
    record = engine.record
    return {
        "states": seen,
        "tap_to_knock_s": round(knocked_at - continue_at, 3),
        "admit_to_first_frame_s": round(first_frame_at - admitted_at, 3),
        "remote_video_frames": record.remote_video_frames,
        "remote_audio_frames": record.remote_audio_frames,
        "checks": {
            "camera_ok": bool(checks and checks.camera_ok),
            "microphone_ok": bool(checks and checks.microphone_ok),
        },
        "camera_synthetic": engine.devices.camera_synthetic,
        "microphone_missing": engine.devices.microphone_missing,
        "ended_clean": record.tokens_released and record.wiped and engine.state.digits == "",
    }
