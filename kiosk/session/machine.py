"""The transition table: every (phase, event) the session understands, in one place.

`transition(state, event, now)` looks the pair up in `TABLE` and returns the next immutable
state and the commands the engine must carry out. It does no I/O and reads no clock: `now`
comes from the engine. A pair that is not in the table raises `SessionError` naming both.
Events that can arrive late from the network or the devices (after the patient has left, say)
and taps that a shaky finger sends twice are in the table too, explicitly ignored. Timers are
events of their own kind (`events.Timer`), so the table says what each does in each phase.

Each handler takes the one event type it is listed for; `tests/session/test_machine.py`
checks that every handler's annotation matches its key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
from kiosk.session.state import CheckStatus, ErrorKind, Phase, SessionState, StaffRole, Timing

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


# Each handler's second parameter is the one event type it is listed for (checked by a test).
Handler = Callable[[SessionState, Any, float], Step]


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
    handler = TABLE[state.phase].get(type(event))
    if handler is None:
        raise SessionError(f"can't handle {type(event).__name__} in phase {state.phase.value}")
    step = handler(state, event, now)
    # Any touch answers the idle warning: the patient is clearly still there.
    touched = isinstance(event, ev.Intent) and event.by_touch
    if step.state.idle_warning and touched and not step.ignored:
        step = Step(_stay(step.state, idle_warning=False), (*step.commands, _idle_timer(state)))
    # Leaving the patient's screens (for the call, the wipe, the staff) ends any reading.
    if state.read_aloud and state.phase in SPOKEN_PHASES and step.state.phase not in SPOKEN_PHASES:
        step = Step(step.state, (StopSpeaking(), *step.commands), step.ignored)
    return step


def handled_events(phase: Phase) -> frozenset[type[ev.Event]]:
    """The event types `phase` has a transition for (ignored ones included)."""
    return frozenset(TABLE[phase])


# -- helpers ---------------------------------------------------------------------------------


def _go(state: SessionState, phase: Phase, now: float, **changes: object) -> SessionState:
    if phase is not state.phase:
        changes["phase_since"] = now
    return dataclasses.replace(state, phase=phase, **changes)  # type: ignore[arg-type]


def _stay(state: SessionState, **changes: object) -> SessionState:
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def _wipe(state: SessionState, now: float, *first: Command) -> Step:
    return Step(_go(state, Phase.WIPING, now), (*first, Wipe()))


def _idle_timer(state: SessionState) -> StartTimer:
    return StartTimer(ev.IdleTimeout, state.timing.number_idle_s)


def _volume_command(state: SessionState) -> SetVolume:
    return SetVolume(round(state.volume * (LOUD_GAIN if state.loud else 1.0), 3))


def _knock(state: SessionState) -> Knock:
    return Knock(alias=state.digits, display_name=state.display_name, host=state.host)


def _fail(state: SessionState, kind: ErrorKind, now: float, *first: Command) -> Step:
    nxt = _go(state, Phase.ERROR, now, error=kind, still_trying=False, show_id=False)
    return Step(nxt, (*first, StartTimer(ev.ReturnTimeout, state.timing.error_return_s)))


def _end(state: SessionState, now: float) -> Step:
    nxt = _go(state, Phase.ENDED, now, still_trying=False, show_id=False)
    return Step(nxt, (EndCall(), StartTimer(ev.ReturnTimeout, state.timing.ended_return_s)))


def _heard(state: SessionState) -> SessionState:
    """The checks with the speaker line as the patient answered it."""
    if state.checks is None or not state.speaker_heard:
        return state
    lines = tuple(
        dataclasses.replace(line, status=CheckStatus.PASS, advice="speaker.confirmed")
        if line.name == "speaker" and line.status is not CheckStatus.PASS
        else line
        for line in state.checks.lines
    )
    return _stay(state, checks=dataclasses.replace(state.checks, speaker_ok=True, lines=lines))


def _reconnect_timers(state: SessionState) -> tuple[Command, ...]:
    policy = state.timing.reconnect
    return (
        StartTimer(ev.StillTrying, policy.still_trying_s),
        StartTimer(ev.GiveUp, policy.give_up_s),
    )


def _attempt_failed(state: SessionState) -> Step:
    attempts = state.reconnect_attempts + 1
    backoff = state.timing.reconnect.backoff(attempts)
    return Step(_stay(state, reconnect_attempts=attempts), (StartTimer(ev.RetryDue, backoff),))


def _lobby_timeout(state: SessionState, now: float) -> Step:
    """The node's waiting-for-host limit (or the kiosk's own) ended the wait: knock again by
    itself a few times, as the clinic's instructions tell patients to do, then say so."""
    if state.lobby_knocks >= state.timing.reconnect.lobby_auto_knocks:
        return _fail(state, ErrorKind.LOBBY_TIMEOUT, now, EndCall())
    nxt = _go(state, Phase.JOINING, now, lobby_knocks=state.lobby_knocks + 1)
    return Step(nxt, (_knock(state),))


# -- handlers: any phase ---------------------------------------------------------------------


def _ignore(state: SessionState, event: ev.Event, now: float) -> Step:
    return Step(state, ignored=True)


def _set_language(state: SessionState, event: ev.SetLanguage, now: float) -> Step:
    return Step(_stay(state, language=event.language))


def _toggle_large_text(state: SessionState, event: ev.ToggleLargeText, now: float) -> Step:
    return Step(_stay(state, large_text=not state.large_text))


def _toggle_loud(state: SessionState, event: ev.ToggleLoud, now: float) -> Step:
    nxt = _stay(state, loud=not state.loud)
    return Step(nxt, (_volume_command(nxt),))


def _toggle_read_aloud(state: SessionState, event: ev.ToggleReadAloud, now: float) -> Step:
    # Turned on, the screen asks for its text to be read (ReadAloud); turned off, silence.
    nxt = _stay(state, read_aloud=not state.read_aloud)
    return Step(nxt, () if nxt.read_aloud else (StopSpeaking(),))


def _read_aloud(state: SessionState, event: ev.ReadAloud, now: float) -> Step:
    if not state.read_aloud or state.phase not in SPOKEN_PHASES or not event.text.strip():
        return Step(state, ignored=True)
    return Step(state, (Speak(event.text, state.language, event.queue),))


def _still_here(state: SessionState, event: ev.StillHere, now: float) -> Step:
    return Step(_stay(state, idle_warning=False), (_idle_timer(state),))


def _idle_warning(state: SessionState, event: ev.IdleTimeout, now: float) -> Step:
    nxt = _stay(state, idle_warning=True)
    return Step(nxt, (StartTimer(ev.IdleFinal, state.timing.idle_warning_s),))


def _idle_final(state: SessionState, event: ev.IdleFinal, now: float) -> Step:
    checks_running = state.phase in (Phase.CHECKS, Phase.MAINTENANCE)
    return _wipe(state, now, *((StopChecks(),) if checks_running else ()))


def _cancel(state: SessionState, event: ev.Event, now: float) -> Step:
    return _wipe(state, now)


def _cancel_checks(state: SessionState, event: ev.Event, now: float) -> Step:
    return _wipe(state, now, StopChecks())


def _cancel_call(state: SessionState, event: ev.Event, now: float) -> Step:
    return _wipe(state, now, EndCall())


def _return_to_start(state: SessionState, event: ev.ReturnTimeout, now: float) -> Step:
    return _wipe(state, now)


# -- the patient's way in --------------------------------------------------------------------


def _tap(state: SessionState, event: ev.Tap, now: float) -> Step:
    return Step(_go(state, Phase.NUMBER, now), (_idle_timer(state),))


def _digit(state: SessionState, event: ev.Digit, now: float) -> Step:
    digits = state.digits if state.number_complete else state.digits + event.digit
    return Step(_stay(state, digits=digits, notice=""), (_idle_timer(state),))


def _delete_digit(state: SessionState, event: ev.DeleteDigit, now: float) -> Step:
    return Step(_stay(state, digits=state.digits[:-1], notice=""), (_idle_timer(state),))


def _scanned(state: SessionState, event: ev.NumberScanned, now: float) -> Step:
    nxt = _go(state, Phase.NUMBER, now, digits=event.digits, host=event.host)
    return Step(nxt, (_idle_timer(state),))


def _qr_refused(state: SessionState, event: ev.QrRefused, now: float) -> Step:
    return Step(_stay(state, notice=event.reason))


def _submit(state: SessionState, event: ev.SubmitNumber, now: float) -> Step:
    if not state.number_complete:
        return Step(state, ignored=True)
    nxt = _go(state, Phase.CHECKS, now, checks=None, speaker_heard=False)
    return Step(nxt, (RunChecks(), _idle_timer(state)))


def _checks_finished(state: SessionState, event: ev.ChecksFinished, now: float) -> Step:
    return Step(_heard(_stay(state, checks=event.summary)))


def _heard_chime(state: SessionState, event: ev.HeardChime, now: float) -> Step:
    if state.checks is None:
        return Step(state, ignored=True)
    return Step(_heard(_stay(state, speaker_heard=True)), (_idle_timer(state),))


def _rerun_checks(state: SessionState, event: ev.RerunChecks, now: float) -> Step:
    nxt = _stay(state, checks=None, speaker_heard=False)
    return Step(nxt, (RunChecks(), _idle_timer(state)))


def _continue(state: SessionState, event: ev.Continue, now: float) -> Step:
    return Step(_go(state, Phase.JOINING, now, error=None), (StopChecks(), _knock(state)))


# -- knocking, waiting, the call -------------------------------------------------------------


def _knocked(state: SessionState, event: ev.Knocked, now: float) -> Step:
    nxt = _go(state, Phase.WAITING, now, knocks=state.knocks + 1)
    return Step(nxt, (StartTimer(ev.LobbyTimeout, state.timing.lobby_limit_s),))


def _join_failed(state: SessionState, event: ev.JoinFailed, now: float) -> Step:
    return _fail(state, event.kind, now, EndCall())


def _admitted(state: SessionState, event: ev.Admitted, now: float) -> Step:
    return Step(_go(state, Phase.IN_CALL, now, call_started_at=now, remote_media=False))


def _removed_while_joining(state: SessionState, event: ev.RemovedByServer, now: float) -> Step:
    return _fail(state, ErrorKind.LOBBY_TIMEOUT, now, EndCall())


def _removed_while_waiting(state: SessionState, event: ev.RemovedByServer, now: float) -> Step:
    if event.deliberate:
        # The clinician sent the patient away: no automatic new knock.
        return _end(state, now)
    return _lobby_timeout(state, now)


def _own_lobby_limit(state: SessionState, event: ev.LobbyTimeout, now: float) -> Step:
    return _lobby_timeout(state, now)


def _hang_up(state: SessionState, event: ev.Event, now: float) -> Step:
    return _end(state, now)


def _media_started(state: SessionState, event: ev.CallMediaStarted, now: float) -> Step:
    nxt = _go(state, Phase.IN_CALL, now, remote_media=True, still_trying=False, rejoining=False)
    return Step(nxt)


def _toggle_show_id(state: SessionState, event: ev.ToggleShowId, now: float) -> Step:
    return Step(_stay(state, show_id=not state.show_id))


def _toggle_mute(state: SessionState, event: ev.ToggleMute, now: float) -> Step:
    muted = not state.muted
    return Step(_stay(state, muted=muted), (SetMute(muted),))


def _change_volume(state: SessionState, event: ev.ChangeVolume, now: float) -> Step:
    nxt = _stay(state, volume=round(min(1.0, max(0.0, state.volume + event.step)), 3))
    return Step(nxt, (_volume_command(nxt),))


def _recording(state: SessionState, event: ev.RecordingChanged, now: float) -> Step:
    return Step(_stay(state, recording=event.recording))


# -- reconnecting ----------------------------------------------------------------------------


def _media_lost(state: SessionState, event: ev.MediaLost, now: float) -> Step:
    """A media outage: the same participant, a call rebuilt; the patient stays admitted."""
    nxt = _go(
        state, Phase.RECONNECTING, now, still_trying=False, rejoining=False, reconnect_attempts=0
    )
    return Step(nxt, (RebuildCall(), *_reconnect_timers(state)))


def _participant_lost(state: SessionState, event: ev.ParticipantLost, now: float) -> Step:
    """The node no longer knows us: a new knock, and the clinician lets the patient in again."""
    nxt = _go(
        state, Phase.RECONNECTING, now, still_trying=False, rejoining=True, reconnect_attempts=0
    )
    return Step(nxt, (_knock(state), *_reconnect_timers(state)))


def _lost_again(state: SessionState, event: ev.MediaLost, now: float) -> Step:
    return _attempt_failed(state)


def _rejoin_failed(state: SessionState, event: ev.JoinFailed, now: float) -> Step:
    if event.kind in _TRANSIENT:
        return _attempt_failed(state)
    return _fail(state, event.kind, now, EndCall())


def _retry(state: SessionState, event: ev.RetryDue, now: float) -> Step:
    return Step(state, (_knock(state) if state.rejoining else RebuildCall(),))


def _still_trying(state: SessionState, event: ev.StillTrying, now: float) -> Step:
    return Step(_stay(state, still_trying=True))


def _give_up(state: SessionState, event: ev.GiveUp, now: float) -> Step:
    return _fail(state, ErrorKind.CONNECTION_LOST, now, EndCall())


def _media_restored(state: SessionState, event: ev.MediaRestored, now: float) -> Step:
    return Step(_go(state, Phase.IN_CALL, now, still_trying=False, rejoining=False))


def _readmitted(state: SessionState, event: ev.Admitted, now: float) -> Step:
    if not state.rejoining:
        return Step(state, ignored=True)
    return _admitted(_stay(state, rejoining=False), event, now)


def _knocked_again(state: SessionState, event: ev.Knocked, now: float) -> Step:
    if not state.rejoining:
        return Step(state, ignored=True)
    return _knocked(_stay(state, rejoining=False), event, now)


# -- after the call --------------------------------------------------------------------------


def _knock_again(state: SessionState, event: ev.KnockAgain, now: float) -> Step:
    if not state.number_complete or state.error in (ErrorKind.NOT_FOUND, ErrorKind.INVALID_PIN):
        return Step(state, ignored=True)
    return Step(_go(state, Phase.JOINING, now, error=None), (_knock(state),))


def _try_another_number(state: SessionState, event: ev.TryAnotherNumber, now: float) -> Step:
    nxt = _go(state, Phase.NUMBER, now, error=None, digits="", host=None)
    return Step(nxt, (_idle_timer(state),))


def _wiped(state: SessionState, event: ev.Wiped, now: float) -> Step:
    fresh = SessionState(
        phase=Phase.IDLE,
        phase_since=now,
        session_number=state.session_number + 1,
        timing=state.timing,
        # Not about the patient, and must survive an abandoned PIN pad.
        pin_failures=state.pin_failures,
        pin_locked_until=state.pin_locked_until,
        # Each new patient starts with the terminal's own choice.
        read_aloud=state.read_aloud_default,
        read_aloud_default=state.read_aloud_default,
    )
    return Step(fresh)


# -- staff: nurse-assisted sessions and maintenance ------------------------------------------


def _staff_gesture(state: SessionState, event: ev.StaffGesture, now: float) -> Step:
    nxt = _go(state, Phase.STAFF_PIN, now, staff_role=event.role, pin_digits="", notice="")
    return Step(nxt, (_idle_timer(state),))


def _pin_digit(state: SessionState, event: ev.Digit, now: float) -> Step:
    if len(state.pin_digits) >= MAX_PIN_DIGITS:
        return Step(state, ignored=True)
    nxt = _stay(state, pin_digits=state.pin_digits + event.digit, notice="")
    return Step(nxt, (_idle_timer(state),))


def _pin_delete(state: SessionState, event: ev.DeleteDigit, now: float) -> Step:
    return Step(_stay(state, pin_digits=state.pin_digits[:-1]), (_idle_timer(state),))


def _submit_pin(state: SessionState, event: ev.SubmitPin, now: float) -> Step:
    if now < state.pin_locked_until:
        return Step(_stay(state, pin_digits="", notice="pin.locked"))
    if state.pin_checking or not state.pin_digits or state.staff_role is None:
        return Step(state, ignored=True)
    # The PIN leaves the state at once: only the command carries it, to be hashed.
    nxt = _stay(state, pin_digits="", pin_checking=True, notice="")
    return Step(nxt, (CheckPin(state.staff_role.value, state.pin_digits),))


def _pin_checked(state: SessionState, event: ev.PinChecked, now: float) -> Step:
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


def _set_display_name(state: SessionState, event: ev.SetDisplayName, now: float) -> Step:
    return Step(_stay(state, display_name=event.name.strip()), (_idle_timer(state),))


def _nurse_submit(state: SessionState, event: ev.SubmitNumber, now: float) -> Step:
    step = _submit(state, event, now)
    if step.ignored:
        return step
    return Step(_stay(step.state, assisted=True, staff_role=None), step.commands)


def _test_call(state: SessionState, event: ev.StartTestCall, now: float) -> Step:
    nxt = _go(state, Phase.JOINING, now, digits=event.alias, display_name="Test", checks=None)
    return Step(nxt, (StopChecks(), _knock(nxt)))


def _maintenance_checks(state: SessionState, event: ev.RerunChecks, now: float) -> Step:
    return Step(_stay(state, checks=None), (RunChecks(), _idle_timer(state)))


def _maintenance_checks_finished(state: SessionState, event: ev.ChecksFinished, now: float) -> Step:
    return Step(_stay(state, checks=event.summary))


# -- the table -------------------------------------------------------------------------------
# Shared rows, spelt out once and named for what they are.

# Answers from the network and the devices that may still arrive after the session moved on.
LATE_NETWORK: dict[type[ev.Event], Handler] = {
    ev.Knocked: _ignore,
    ev.Admitted: _ignore,
    ev.CallMediaStarted: _ignore,
    ev.JoinFailed: _ignore,
    ev.RemovedByServer: _ignore,
    ev.MediaLost: _ignore,
    ev.MediaRestored: _ignore,
    ev.ParticipantLost: _ignore,
    ev.RecordingChanged: _ignore,
}
# Checks stopped on leaving their screen may still report once; a PIN check may finish after
# the pad was left.
LATE_CHECKS: dict[type[ev.Event], Handler] = {ev.ChecksFinished: _ignore}
LATE_PIN: dict[type[ev.Event], Handler] = {ev.PinChecked: _ignore}
# The QR reader runs on the number screens and may report just after one was left.
LATE_QR: dict[type[ev.Event], Handler] = {ev.NumberScanned: _ignore, ev.QrRefused: _ignore}
# Taps that a quick or shaky finger can send twice, or on a screen that is just leaving.
STRAY_TAPS: dict[type[ev.Event], Handler] = {
    ev.Tap: _ignore,
    ev.HangUp: _ignore,
    ev.Dismiss: _ignore,
    ev.Cancel: _ignore,
    ev.StillHere: _ignore,
    ev.StaffGesture: _ignore,
}
ACCESSIBILITY: dict[type[ev.Event], Handler] = {
    ev.ToggleLargeText: _toggle_large_text,
    ev.ToggleLoud: _toggle_loud,
    ev.ToggleReadAloud: _toggle_read_aloud,
}
# Every screen may ask for its text to be read; the handler says where anything is spoken.
SCREEN_READING: dict[type[ev.Event], Handler] = {ev.ReadAloud: _read_aloud}
CALL_CONTROLS: dict[type[ev.Event], Handler] = {
    ev.ToggleMute: _toggle_mute,
    ev.ChangeVolume: _change_volume,
    ev.RecordingChanged: _recording,
}
IDLE_WARNING: dict[type[ev.Event], Handler] = {
    ev.IdleTimeout: _idle_warning,
    ev.IdleFinal: _idle_final,
    ev.StillHere: _still_here,
}

TABLE: dict[Phase, dict[type[ev.Event], Handler]] = {
    Phase.IDLE: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        **ACCESSIBILITY,
        ev.Tap: _tap,
        ev.SetLanguage: _set_language,
        ev.StaffGesture: _staff_gesture,
    },
    Phase.NUMBER: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_PIN,
        **ACCESSIBILITY,
        **IDLE_WARNING,
        ev.Digit: _digit,
        ev.DeleteDigit: _delete_digit,
        ev.NumberScanned: _scanned,
        ev.QrRefused: _qr_refused,
        ev.SubmitNumber: _submit,
        ev.SetLanguage: _set_language,
        ev.Cancel: _cancel,
    },
    Phase.CHECKS: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_PIN,
        **LATE_QR,
        **ACCESSIBILITY,
        **IDLE_WARNING,
        ev.ChecksFinished: _checks_finished,
        ev.HeardChime: _heard_chime,
        ev.RerunChecks: _rerun_checks,
        ev.Continue: _continue,
        ev.Cancel: _cancel_checks,
    },
    Phase.JOINING: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        ev.Knocked: _knocked,
        ev.Admitted: _admitted,
        ev.JoinFailed: _join_failed,
        ev.RemovedByServer: _removed_while_joining,
        ev.Cancel: _cancel_call,
    },
    Phase.WAITING: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        **ACCESSIBILITY,
        **CALL_CONTROLS,
        ev.Admitted: _admitted,
        ev.JoinFailed: _join_failed,
        ev.RemovedByServer: _removed_while_waiting,
        ev.ParticipantLost: _participant_lost,
        ev.LobbyTimeout: _own_lobby_limit,
        ev.Cancel: _cancel_call,
        ev.HangUp: _cancel_call,
        # The call is set up while waiting; its media means nothing until admission.
        ev.MediaLost: _ignore,
        ev.MediaRestored: _ignore,
        ev.CallMediaStarted: _ignore,
    },
    Phase.IN_CALL: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        **ACCESSIBILITY,
        **CALL_CONTROLS,
        ev.HangUp: _hang_up,
        ev.RemovedByServer: _hang_up,
        ev.JoinFailed: _join_failed,
        ev.CallMediaStarted: _media_started,
        ev.MediaLost: _media_lost,
        ev.ParticipantLost: _participant_lost,
        ev.ToggleShowId: _toggle_show_id,
        ev.MediaRestored: _ignore,
        ev.Admitted: _ignore,
        ev.Knocked: _ignore,
    },
    Phase.RECONNECTING: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        **CALL_CONTROLS,
        ev.MediaRestored: _media_restored,
        ev.CallMediaStarted: _media_started,
        ev.MediaLost: _lost_again,
        ev.ParticipantLost: _participant_lost,
        ev.RetryDue: _retry,
        ev.StillTrying: _still_trying,
        ev.GiveUp: _give_up,
        ev.HangUp: _hang_up,
        ev.Cancel: _cancel_call,
        ev.RemovedByServer: _hang_up,
        ev.JoinFailed: _rejoin_failed,
        ev.Admitted: _readmitted,
        ev.Knocked: _knocked_again,
        ev.ToggleShowId: _toggle_show_id,
    },
    Phase.ENDED: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        ev.ReturnTimeout: _return_to_start,
        ev.Dismiss: _cancel,
        ev.Tap: _cancel,
    },
    Phase.ERROR: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        ev.KnockAgain: _knock_again,
        ev.TryAnotherNumber: _try_another_number,
        ev.Dismiss: _cancel,
        ev.Cancel: _cancel,
        ev.ReturnTimeout: _return_to_start,
    },
    Phase.WIPING: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_PIN,
        **LATE_QR,
        ev.Wiped: _wiped,
        # Whatever timer was pending when the session ended has nothing left to do.
        ev.IdleTimeout: _ignore,
        ev.IdleFinal: _ignore,
        ev.ReturnTimeout: _ignore,
    },
    Phase.STAFF_PIN: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_QR,
        **IDLE_WARNING,
        ev.Digit: _pin_digit,
        ev.DeleteDigit: _pin_delete,
        ev.SubmitPin: _submit_pin,
        ev.PinChecked: _pin_checked,
        ev.Cancel: _cancel,
    },
    Phase.NURSE: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_CHECKS,
        **LATE_PIN,
        **ACCESSIBILITY,
        **IDLE_WARNING,
        ev.Digit: _digit,
        ev.DeleteDigit: _delete_digit,
        ev.SetDisplayName: _set_display_name,
        ev.SetLanguage: _set_language,
        ev.SubmitNumber: _nurse_submit,
        ev.NumberScanned: _scanned,
        ev.QrRefused: _qr_refused,
        ev.Cancel: _cancel,
    },
    Phase.MAINTENANCE: {
        **STRAY_TAPS,
        **SCREEN_READING,
        **LATE_NETWORK,
        **LATE_PIN,
        **LATE_QR,
        **IDLE_WARNING,
        ev.RerunChecks: _maintenance_checks,
        ev.StartTestCall: _test_call,
        ev.ChecksFinished: _maintenance_checks_finished,
        ev.Cancel: _cancel_checks,
        ev.Dismiss: _cancel_checks,
    },
}
