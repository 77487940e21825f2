"""The transition table: every (phase, event) the session understands, in one place.

`transition(state, event, now)` returns the next immutable state and the commands the engine
must carry out. It does no I/O and reads no clock: `now` comes from the engine. An event that
is not in the table for the current phase raises `SessionError` naming both; events that can
arrive late from the network (after the patient has left, say) are listed explicitly as ignored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.session import events as ev
from kiosk.session.commands import (
    CheckPin,
    Command,
    EndCall,
    Knock,
    RebuildCall,
    RunChecks,
    SetMute,
    SetVolume,
    Speak,
    StartTimer,
    StopChecks,
    StopSpeaking,
    Wipe,
)
from kiosk.session.reconnect import Remedy, Trouble
from kiosk.session.state import CheckStatus, ErrorKind, Phase, SessionState, StaffRole, Timing

IDLE_TIMER = "idle"
LOBBY_TIMER = "lobby"
RETURN_TIMER = "return"
STILL_TRYING_TIMER = "still_trying"
GIVE_UP_TIMER = "give_up"
RETRY_TIMER = "retry"
IDLE_FINAL_TIMER = "idle_final"
MAX_PIN_DIGITS = 12
LOUD_GAIN = 2.0  # +6 dB for patients who hear poorly

# Where the kiosk may read the screen aloud: the patient's own screens, never in a call
# (the clinician speaks) nor on the staff's screens.
SPOKEN_PHASES = frozenset(
    {
        Phase.IDLE,
        Phase.NUMBER,
        Phase.CHECKS,
        Phase.JOINING,
        Phase.WAITING,
        Phase.ENDED,
        Phase.ERROR,
    }
)

# Failures worth another try while reconnecting; the others need the patient or staff.
_TRANSIENT = frozenset(
    {ErrorKind.UNREACHABLE, ErrorKind.MAINTENANCE, ErrorKind.PROTOCOL, ErrorKind.CONNECTION_LOST}
)


class SessionError(Exception):
    """An event arrived in a phase that has no transition for it."""


@dataclass(frozen=True)
class Step:
    state: SessionState
    commands: tuple[Command, ...] = ()
    ignored: bool = False


Handler = Callable[[SessionState, ev.Event, float], Step]


def initial_state(
    timing: Timing | None = None, language: str = "nb", read_aloud: bool = False
) -> SessionState:
    return SessionState(
        timing=timing or Timing(),
        language=language,
        read_aloud=read_aloud,
        read_aloud_default=read_aloud,
    )


def transition(state: SessionState, event: ev.Event, now: float) -> Step:
    handler = _TABLE.get((state.phase, type(event)))
    if handler is None:
        raise SessionError(f"can't handle {type(event).__name__} in phase {state.phase.value}")
    step = handler(state, event, now)
    # Any touch answers the idle warning: the patient is clearly still there.
    touched = isinstance(event, ev.Intent) and event.by_touch
    if step.state.idle_warning and touched and not step.ignored:
        restart = _idle_timer(step.state)
        step = Step(_stay(step.state, idle_warning=False), (*step.commands, restart))
    # Leaving the patient's screens (for the call, the wipe, the staff) ends any reading.
    if state.read_aloud and state.phase in SPOKEN_PHASES and step.state.phase not in SPOKEN_PHASES:
        step = Step(step.state, (StopSpeaking(), *step.commands), step.ignored)
    return step


# -- helpers ---------------------------------------------------------------------------------


def _go(state: SessionState, phase: Phase, now: float, **changes: object) -> SessionState:
    if phase is not state.phase:
        changes["phase_since"] = now
    return dataclasses.replace(state, phase=phase, **changes)  # type: ignore[arg-type]


def _stay(state: SessionState, **changes: object) -> SessionState:
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def _ignore(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(state, ignored=True)


def _wipe(state: SessionState, now: float, *first: Command) -> Step:
    return Step(_go(state, Phase.WIPING, now), (*first, Wipe()))


def _idle_timer(state: SessionState) -> StartTimer:
    return StartTimer(IDLE_TIMER, state.timing.number_idle_s)


def _volume_command(state: SessionState) -> SetVolume:
    return SetVolume(round(state.volume * (LOUD_GAIN if state.loud else 1.0), 3))


def _knock(state: SessionState) -> Knock:
    return Knock(alias=state.digits, display_name=state.display_name, host=state.host)


def _fail(state: SessionState, kind: ErrorKind, now: float, *first: Command) -> Step:
    nxt = _go(state, Phase.ERROR, now, error=kind, still_trying=False, show_id=False)
    return Step(nxt, (*first, StartTimer(RETURN_TIMER, state.timing.error_return_s)))


def _end(state: SessionState, now: float) -> Step:
    nxt = _go(state, Phase.ENDED, now, still_trying=False, show_id=False)
    return Step(nxt, (EndCall(), StartTimer(RETURN_TIMER, state.timing.ended_return_s)))


# -- handlers, by phase ----------------------------------------------------------------------


def _tap(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_go(state, Phase.NUMBER, now), (_idle_timer(state),))


def _set_language(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.SetLanguage)
    return Step(_stay(state, language=event.language))


def _digit(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.Digit)
    digits = state.digits if state.number_complete else state.digits + event.digit
    return Step(_stay(state, digits=digits, notice=""), (_idle_timer(state),))


def _delete_digit(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, digits=state.digits[:-1], notice=""), (_idle_timer(state),))


def _qr_refused(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.QrRefused)
    return Step(_stay(state, notice=event.reason))


def _still_here(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, idle_warning=False), (_idle_timer(state),))


def _toggle_large_text(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, large_text=not state.large_text))


def _toggle_loud(state: SessionState, event: ev.Event, now: float) -> Step:
    nxt = _stay(state, loud=not state.loud)
    return Step(nxt, (_volume_command(nxt),))


def _toggle_read_aloud(state: SessionState, event: ev.Event, now: float) -> Step:
    # Turned on, the screen asks for its text to be read (ReadAloud); turned off, silence.
    nxt = _stay(state, read_aloud=not state.read_aloud)
    return Step(nxt, () if nxt.read_aloud else (StopSpeaking(),))


def _read_aloud(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.ReadAloud)
    if not state.read_aloud or state.phase not in SPOKEN_PHASES or not event.text.strip():
        return Step(state, ignored=True)
    return Step(state, (Speak(event.text, state.language, event.queue),))


# -- staff: nurse-assisted sessions and maintenance ------------------------------------------


def _staff_gesture(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.StaffGesture)
    nxt = _go(state, Phase.STAFF_PIN, now, staff_role=event.role, pin_digits="", notice="")
    return Step(nxt, (_idle_timer(state),))


def _pin_digit(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.Digit)
    if len(state.pin_digits) >= MAX_PIN_DIGITS:
        return Step(state, ignored=True)
    nxt = _stay(state, pin_digits=state.pin_digits + event.digit, notice="")
    return Step(nxt, (_idle_timer(state),))


def _pin_delete(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, pin_digits=state.pin_digits[:-1]), (_idle_timer(state),))


def _submit_pin(state: SessionState, event: ev.Event, now: float) -> Step:
    if now < state.pin_locked_until:
        return Step(_stay(state, pin_digits="", notice="pin.locked"))
    if state.pin_checking or not state.pin_digits or state.staff_role is None:
        return Step(state, ignored=True)
    # The PIN leaves the state at once: only the command carries it, to be hashed.
    nxt = _stay(state, pin_digits="", pin_checking=True, notice="")
    return Step(nxt, (CheckPin(state.staff_role.value, state.pin_digits),))


def _pin_checked(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.PinChecked)
    timing = state.timing
    if event.ok and state.staff_role is not None:
        phase = Phase.NURSE if state.staff_role is StaffRole.NURSE else Phase.MAINTENANCE
        nxt = _go(state, phase, now, pin_checking=False, pin_failures=0, pin_locked_until=0.0)
        return Step(nxt, (_idle_timer(state),))
    failures = state.pin_failures + 1
    if failures >= timing.pin_max_failures:
        locked_until, notice = now + timing.pin_lockout_s, "pin.locked"
    else:
        # 1, 2, 4, 8 s: a finger that slipped barely notices; guessing gets slow.
        locked_until, notice = now + 2.0 ** (failures - 1), "pin.wrong"
    nxt = _stay(
        state,
        pin_checking=False,
        pin_failures=failures,
        pin_locked_until=locked_until,
        notice=notice,
    )
    return Step(nxt)


def _set_display_name(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.SetDisplayName)
    return Step(_stay(state, display_name=event.name.strip()), (_idle_timer(state),))


def _nurse_submit(state: SessionState, event: ev.Event, now: float) -> Step:
    step = _submit(state, event, now)
    if step.ignored:
        return step
    return Step(_stay(step.state, assisted=True, staff_role=None), step.commands)


def _test_call(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.StartTestCall)
    nxt = _go(state, Phase.JOINING, now, digits=event.alias, display_name="Test", checks=None)
    return Step(nxt, (StopChecks(), _knock(nxt)))


def _maintenance_checks(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, checks=None), (RunChecks(), _idle_timer(state)))


def _scanned(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.NumberScanned)
    nxt = _go(state, Phase.NUMBER, now, digits=event.digits, host=event.host)
    return Step(nxt, (_idle_timer(state),))


def _submit(state: SessionState, event: ev.Event, now: float) -> Step:
    if not state.number_complete:
        return Step(state, ignored=True)
    return Step(_go(state, Phase.CHECKS, now, checks=None), (RunChecks(), _idle_timer(state)))


def _cancel(state: SessionState, event: ev.Event, now: float) -> Step:
    return _wipe(state, now)


def _cancel_checks(state: SessionState, event: ev.Event, now: float) -> Step:
    return _wipe(state, now, StopChecks())


def _cancel_call(state: SessionState, event: ev.Event, now: float) -> Step:
    return _wipe(state, now, EndCall())


def _checks_finished(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.ChecksFinished)
    return Step(_stay(state, checks=event.summary))


def _heard_chime(state: SessionState, event: ev.Event, now: float) -> Step:
    if state.checks is None:
        return Step(state, ignored=True)
    lines = tuple(
        dataclasses.replace(line, status=CheckStatus.PASS, advice="speaker.confirmed")
        if line.name == "speaker"
        else line
        for line in state.checks.lines
    )
    summary = dataclasses.replace(state.checks, speaker_ok=True, lines=lines)
    return Step(_stay(state, checks=summary), (_idle_timer(state),))


def _rerun_checks(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, checks=None), (RunChecks(), _idle_timer(state)))


def _continue(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_go(state, Phase.JOINING, now, error=None), (StopChecks(), _knock(state)))


def _knocked(state: SessionState, event: ev.Event, now: float) -> Step:
    nxt = _go(state, Phase.WAITING, now, knocks=state.knocks + 1)
    return Step(nxt, (StartTimer(LOBBY_TIMER, state.timing.lobby_limit_s),))


def _join_failed(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.JoinFailed)
    return _fail(state, event.kind, now, EndCall())


def _admitted(state: SessionState, event: ev.Event, now: float) -> Step:
    nxt = _go(state, Phase.IN_CALL, now, call_started_at=now, remote_media=False)
    return Step(nxt)


def _removed_while_joining(state: SessionState, event: ev.Event, now: float) -> Step:
    return _fail(state, ErrorKind.LOBBY_TIMEOUT, now, EndCall())


def _removed_while_waiting(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.RemovedByServer)
    if event.deliberate:
        # The clinician sent the patient away: no automatic new knock.
        return _end(state, now)
    return _lobby_timeout(state, now)


def _lobby_timer(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.TimerFired)
    if event.name != LOBBY_TIMER:
        return Step(state, ignored=True)
    return _lobby_timeout(state, now)


def _hang_up(state: SessionState, event: ev.Event, now: float) -> Step:
    return _end(state, now)


def _reconnect_timers(state: SessionState) -> tuple[Command, ...]:
    policy = state.timing.reconnect
    return (
        StartTimer(STILL_TRYING_TIMER, policy.still_trying_s),
        StartTimer(GIVE_UP_TIMER, policy.give_up_s),
    )


def _media_lost(state: SessionState, event: ev.Event, now: float) -> Step:
    remedy = state.timing.reconnect.remedy(Trouble.MEDIA_OUTAGE)
    assert remedy is Remedy.REBUILD_CALL
    nxt = _go(
        state, Phase.RECONNECTING, now, still_trying=False, rejoining=False, reconnect_attempts=0
    )
    return Step(nxt, (RebuildCall(), *_reconnect_timers(state)))


def _participant_lost(state: SessionState, event: ev.Event, now: float) -> Step:
    remedy = state.timing.reconnect.remedy(Trouble.PARTICIPANT_LOST)
    assert remedy is Remedy.KNOCK_AGAIN
    nxt = _go(
        state, Phase.RECONNECTING, now, still_trying=False, rejoining=True, reconnect_attempts=0
    )
    return Step(nxt, (_knock(state), *_reconnect_timers(state)))


def _attempt_failed(state: SessionState, now: float) -> Step:
    policy = state.timing.reconnect
    assert policy.remedy(Trouble.ATTEMPT_FAILED) is Remedy.RETRY_AFTER_BACKOFF
    attempts = state.reconnect_attempts + 1
    nxt = _stay(state, reconnect_attempts=attempts)
    return Step(nxt, (StartTimer(RETRY_TIMER, policy.backoff(attempts)),))


def _lost_again(state: SessionState, event: ev.Event, now: float) -> Step:
    return _attempt_failed(state, now)


def _rejoin_failed(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.JoinFailed)
    if event.kind in _TRANSIENT:
        return _attempt_failed(state, now)
    return _fail(state, event.kind, now, EndCall())


def _media_started(state: SessionState, event: ev.Event, now: float) -> Step:
    nxt = _go(state, Phase.IN_CALL, now, remote_media=True, still_trying=False, rejoining=False)
    return Step(nxt)


def _media_restored(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_go(state, Phase.IN_CALL, now, still_trying=False, rejoining=False))


def _readmitted(state: SessionState, event: ev.Event, now: float) -> Step:
    if not state.rejoining:
        return Step(state, ignored=True)
    return _admitted(_stay(state, rejoining=False), event, now)


def _knocked_again(state: SessionState, event: ev.Event, now: float) -> Step:
    if not state.rejoining:
        return Step(state, ignored=True)
    return _knocked(_stay(state, rejoining=False), event, now)


def _reconnect_timer(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.TimerFired)
    if event.name == STILL_TRYING_TIMER:
        return Step(_stay(state, still_trying=True))
    if event.name == GIVE_UP_TIMER:
        return _fail(state, ErrorKind.CONNECTION_LOST, now, EndCall())
    if event.name == RETRY_TIMER:
        return Step(state, (_knock(state) if state.rejoining else RebuildCall(),))
    return Step(state, ignored=True)


def _lobby_timeout(state: SessionState, now: float) -> Step:
    policy = state.timing.reconnect
    if policy.remedy(Trouble.LOBBY_TIMEOUT, lobby_knocks=state.lobby_knocks) is Remedy.GIVE_UP:
        return _fail(state, ErrorKind.LOBBY_TIMEOUT, now, EndCall())
    nxt = _go(state, Phase.JOINING, now, lobby_knocks=state.lobby_knocks + 1)
    return Step(nxt, (_knock(state),))


def _toggle_show_id(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(_stay(state, show_id=not state.show_id))


def _toggle_mute(state: SessionState, event: ev.Event, now: float) -> Step:
    muted = not state.muted
    return Step(_stay(state, muted=muted), (SetMute(muted),))


def _change_volume(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.ChangeVolume)
    nxt = _stay(state, volume=round(min(1.0, max(0.0, state.volume + event.step)), 3))
    return Step(nxt, (_volume_command(nxt),))


def _recording(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.RecordingChanged)
    return Step(_stay(state, recording=event.recording))


def _return_timer(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.TimerFired)
    if event.name != RETURN_TIMER:
        return Step(state, ignored=True)
    return _wipe(state, now)


def _idle_timeout(state: SessionState, event: ev.Event, now: float) -> Step:
    assert isinstance(event, ev.TimerFired)
    if event.name == IDLE_TIMER:
        nxt = _stay(state, idle_warning=True)
        return Step(nxt, (StartTimer(IDLE_FINAL_TIMER, state.timing.idle_warning_s),))
    if event.name == IDLE_FINAL_TIMER:
        checks_running = state.phase in (Phase.CHECKS, Phase.MAINTENANCE)
        return _wipe(state, now, *((StopChecks(),) if checks_running else ()))
    return Step(state, ignored=True)


def _knock_again(state: SessionState, event: ev.Event, now: float) -> Step:
    if not state.number_complete or state.error in (ErrorKind.NOT_FOUND, ErrorKind.INVALID_PIN):
        return Step(state, ignored=True)
    return Step(_go(state, Phase.JOINING, now, error=None), (_knock(state),))


def _try_another_number(state: SessionState, event: ev.Event, now: float) -> Step:
    nxt = _go(state, Phase.NUMBER, now, error=None, digits="", host=None)
    return Step(nxt, (_idle_timer(state),))


def _wiped(state: SessionState, event: ev.Event, now: float) -> Step:
    fresh = SessionState(
        phase=Phase.IDLE,
        phase_since=now,
        session_number=state.session_number + 1,
        timing=state.timing,
        # Not about the patient, and must survive an abandoned PIN pad.
        pin_failures=state.pin_failures,
        pin_locked_until=state.pin_locked_until,
        read_aloud=state.read_aloud_default,
        read_aloud_default=state.read_aloud_default,
    )
    return Step(fresh)


# -- the table -------------------------------------------------------------------------------

# Events from the network or devices that may still arrive after the session moved on.
_LATE: tuple[type[ev.Event], ...] = (
    ev.ChecksFinished,
    ev.Knocked,
    ev.Admitted,
    ev.CallMediaStarted,
    ev.JoinFailed,
    ev.RemovedByServer,
    ev.MediaLost,
    ev.MediaRestored,
    ev.ParticipantLost,
    ev.RecordingChanged,
)
# Taps that a quick or shaky finger can send twice, or on a screen that is just leaving.
_STRAY_INTENTS: tuple[type[ev.Event], ...] = (
    ev.Tap,
    ev.HangUp,
    ev.Dismiss,
    ev.Cancel,
    ev.StillHere,
    ev.StaffGesture,
    ev.QrRefused,
    ev.NumberScanned,
)
_ACCESSIBILITY: dict[type[ev.Event], Handler] = {
    ev.ToggleLargeText: _toggle_large_text,
    ev.ToggleLoud: _toggle_loud,
    ev.ToggleReadAloud: _toggle_read_aloud,
}
_CALL_CONTROLS: dict[type[ev.Event], Handler] = {
    ev.ToggleMute: _toggle_mute,
    ev.ChangeVolume: _change_volume,
    ev.RecordingChanged: _recording,
}

_TABLE: dict[tuple[Phase, type[ev.Event]], Handler] = {}


def _add(phase: Phase, handlers: dict[type[ev.Event], Handler]) -> None:
    for event_type, handler in handlers.items():
        _TABLE[(phase, event_type)] = handler


def _ignore_all(phase: Phase, event_types: tuple[type[ev.Event], ...]) -> None:
    for event_type in event_types:
        _TABLE.setdefault((phase, event_type), _ignore)


_add(
    Phase.IDLE,
    {
        ev.Tap: _tap,
        ev.SetLanguage: _set_language,
        ev.NumberScanned: _scanned,
        ev.StaffGesture: _staff_gesture,
        **_ACCESSIBILITY,
    },
)
_add(
    Phase.NUMBER,
    {
        ev.Digit: _digit,
        ev.DeleteDigit: _delete_digit,
        ev.NumberScanned: _scanned,
        ev.SubmitNumber: _submit,
        ev.SetLanguage: _set_language,
        ev.Cancel: _cancel,
        ev.TimerFired: _idle_timeout,
        ev.StillHere: _still_here,
        ev.QrRefused: _qr_refused,
        **_ACCESSIBILITY,
    },
)
_add(
    Phase.CHECKS,
    {
        ev.ChecksFinished: _checks_finished,
        ev.HeardChime: _heard_chime,
        ev.RerunChecks: _rerun_checks,
        ev.Continue: _continue,
        ev.Cancel: _cancel_checks,
        ev.TimerFired: _idle_timeout,
        ev.StillHere: _still_here,
        **_ACCESSIBILITY,
    },
)
_add(
    Phase.JOINING,
    {
        ev.Knocked: _knocked,
        ev.Admitted: _admitted,
        ev.JoinFailed: _join_failed,
        ev.RemovedByServer: _removed_while_joining,
        ev.Cancel: _cancel_call,
    },
)
_add(
    Phase.WAITING,
    {
        ev.Admitted: _admitted,
        ev.JoinFailed: _join_failed,
        ev.RemovedByServer: _removed_while_waiting,
        ev.ParticipantLost: _participant_lost,
        ev.TimerFired: _lobby_timer,
        ev.Cancel: _cancel_call,
        ev.HangUp: _cancel_call,
        ev.MediaLost: _ignore,
        ev.MediaRestored: _ignore,
        ev.CallMediaStarted: _ignore,
        **_CALL_CONTROLS,
        **_ACCESSIBILITY,
    },
)
_add(
    Phase.IN_CALL,
    {
        ev.HangUp: _hang_up,
        ev.RemovedByServer: _hang_up,
        ev.JoinFailed: _join_failed,
        ev.CallMediaStarted: _media_started,
        ev.MediaLost: _media_lost,
        ev.ParticipantLost: _participant_lost,
        ev.MediaRestored: _ignore,
        ev.Admitted: _ignore,
        ev.Knocked: _ignore,
        ev.ToggleShowId: _toggle_show_id,
        **_CALL_CONTROLS,
        **_ACCESSIBILITY,
    },
)
_add(
    Phase.RECONNECTING,
    {
        ev.MediaRestored: _media_restored,
        ev.CallMediaStarted: _media_started,
        ev.MediaLost: _lost_again,
        ev.ParticipantLost: _participant_lost,
        ev.TimerFired: _reconnect_timer,
        ev.HangUp: _hang_up,
        ev.Cancel: _cancel_call,
        ev.RemovedByServer: _hang_up,
        ev.JoinFailed: _rejoin_failed,
        ev.Admitted: _readmitted,
        ev.Knocked: _knocked_again,
        ev.ToggleShowId: _toggle_show_id,
        **_CALL_CONTROLS,
    },
)
_add(
    Phase.ENDED,
    {ev.TimerFired: _return_timer, ev.Dismiss: _cancel, ev.Tap: _cancel},
)
_add(
    Phase.ERROR,
    {
        ev.KnockAgain: _knock_again,
        ev.TryAnotherNumber: _try_another_number,
        ev.Dismiss: _cancel,
        ev.Cancel: _cancel,
        ev.TimerFired: _return_timer,
    },
)
_add(Phase.WIPING, {ev.Wiped: _wiped})
_add(
    Phase.STAFF_PIN,
    {
        ev.Digit: _pin_digit,
        ev.DeleteDigit: _pin_delete,
        ev.SubmitPin: _submit_pin,
        ev.PinChecked: _pin_checked,
        ev.Cancel: _cancel,
        ev.TimerFired: _idle_timeout,
        ev.StillHere: _still_here,
    },
)
_add(
    Phase.NURSE,
    {
        ev.Digit: _digit,
        ev.DeleteDigit: _delete_digit,
        ev.SetDisplayName: _set_display_name,
        ev.SetLanguage: _set_language,
        ev.SubmitNumber: _nurse_submit,
        ev.Cancel: _cancel,
        ev.TimerFired: _idle_timeout,
        ev.StillHere: _still_here,
        ev.NumberScanned: _scanned,
        **_ACCESSIBILITY,
    },
)
_add(
    Phase.MAINTENANCE,
    {
        ev.RerunChecks: _maintenance_checks,
        ev.StartTestCall: _test_call,
        ev.ChecksFinished: _checks_finished,
        ev.Cancel: _cancel_checks,
        ev.Dismiss: _cancel_checks,
        ev.TimerFired: _idle_timeout,
        ev.StillHere: _still_here,
    },
)

_QUIET_PHASES = (
    Phase.IDLE,
    Phase.NUMBER,
    Phase.CHECKS,
    Phase.ENDED,
    Phase.ERROR,
    Phase.WIPING,
    Phase.STAFF_PIN,
    Phase.NURSE,
    Phase.MAINTENANCE,
)
for _phase in _QUIET_PHASES:
    _ignore_all(_phase, _LATE)
# A PIN check that finishes after the pad was left is dropped.
for _phase in Phase:
    _ignore_all(_phase, (ev.PinChecked,))
# Checks stopped on leaving their screen may still report once.
for _phase in (Phase.JOINING, Phase.WAITING, Phase.IN_CALL, Phase.RECONNECTING):
    _ignore_all(_phase, (ev.ChecksFinished,))
for _phase in Phase:
    _ignore_all(_phase, _STRAY_INTENTS)
    # Every screen may ask; the handler says where anything is spoken.
    _TABLE[(_phase, ev.ReadAloud)] = _read_aloud
_ignore_all(Phase.WIPING, (ev.TimerFired,))


def handled_events(phase: Phase) -> frozenset[type[ev.Event]]:
    """The event types `phase` has a transition for (ignored ones included)."""
    return frozenset(event_type for (p, event_type) in _TABLE if p is phase)
