"""The transition table, without any I/O: whole journeys and the refusals."""

from __future__ import annotations

import pytest

from kiosk.session import commands as cmd
from kiosk.session import events as ev
from kiosk.session.machine import (
    TABLE,
    SessionError,
    Step,
    handled_events,
    initial_state,
    transition,
)
from kiosk.session.reconnect import ReconnectPolicy
from kiosk.session.state import CheckSummary, ErrorKind, Phase, SessionState, Timing

GOOD_CHECKS = CheckSummary(camera_ok=True, microphone_ok=True)


def run(
    events: list[ev.Event], state: SessionState | None = None
) -> tuple[SessionState, list[str], list[cmd.Command]]:
    """Feed events one second apart; return the final state, the phase history and all commands."""
    state = state or initial_state()
    phases = [state.phase.value]
    commands: list[cmd.Command] = []
    for i, event in enumerate(events):
        step: Step = transition(state, event, now=float(i + 1))
        state = step.state
        if phases[-1] != state.phase.value:
            phases.append(state.phase.value)
        commands.extend(step.commands)
    return state, phases, commands


def number(digits: str = "123456") -> list[ev.Event]:
    return [ev.Digit(d) for d in digits]


JOURNEY: list[ev.Event] = [
    ev.Tap(),
    *number(),
    ev.SubmitNumber(),
    ev.ChecksFinished(GOOD_CHECKS),
    ev.Continue(),
    ev.Knocked(),
    ev.Admitted(),
    ev.CallMediaStarted(),
    ev.HangUp(),
    ev.ReturnTimeout(),
    ev.Wiped(),
]


def test_whole_consultation_visits_every_phase_in_order() -> None:
    state, phases, commands = run(JOURNEY)
    assert phases == [
        "idle",
        "number",
        "checks",
        "joining",
        "waiting",
        "in_call",
        "ended",
        "wiping",
        "idle",
    ]
    kinds = [type(c).__name__ for c in commands if not isinstance(c, cmd.StartTimer)]
    assert kinds == ["RunChecks", "StopChecks", "Knock", "EndCall", "Wipe"]
    knock = next(c for c in commands if isinstance(c, cmd.Knock))
    assert knock.alias == "123456"
    assert state == SessionState(phase=Phase.IDLE, phase_since=state.phase_since, session_number=1)


def test_wiped_state_forgets_number_language_and_call_settings() -> None:
    events = [
        ev.SetLanguage("en"),
        *JOURNEY[:13],
        ev.ChangeVolume(0.2),
        ev.ToggleMute(),
        ev.ToggleShowId(),
        *JOURNEY[13:],
    ]
    state, _, _ = run(events)
    assert (state.digits, state.language, state.muted, state.show_id) == ("", "nb", False, False)
    assert state.volume == SessionState().volume


def test_digits_stop_at_six_and_delete_works() -> None:
    state, _, _ = run([ev.Tap(), *number("1234567"), ev.DeleteDigit(), ev.Digit("9")])
    assert state.digits == "123459"


def test_submit_with_too_few_digits_is_ignored() -> None:
    state, _, _ = run([ev.Tap(), *number("123")])
    step = transition(state, ev.SubmitNumber(), 10.0)
    assert step.ignored and step.state is state


def test_every_phase_entry_and_timer_history() -> None:
    _, _, commands = run(JOURNEY)
    timers = [c.timer for c in commands if isinstance(c, cmd.StartTimer)]
    assert timers == [ev.IdleTimeout] * 8 + [ev.LobbyTimeout, ev.ReturnTimeout]


def test_still_trying_comes_before_giving_up() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    _, _, commands = run([ev.MediaLost()], in_call)
    timers = {c.timer: c.seconds for c in commands if isinstance(c, cmd.StartTimer)}
    assert timers[ev.StillTrying] < timers[ev.GiveUp]


def test_unknown_number_offers_another_try() -> None:
    state, phases, _ = run(
        [ev.Tap(), *number(), ev.SubmitNumber(), ev.Continue(), ev.JoinFailed(ErrorKind.NOT_FOUND)]
    )
    assert phases == ["idle", "number", "checks", "joining", "error"]
    assert state.error is ErrorKind.NOT_FOUND
    assert transition(state, ev.KnockAgain(), 20.0).ignored
    again = transition(state, ev.TryAnotherNumber(), 20.0).state
    assert (again.phase, again.digits, again.error) == (Phase.NUMBER, "", None)


def test_lobby_timeout_knocks_again_by_itself_then_offers_a_knock() -> None:
    waiting = [ev.Tap(), *number(), ev.SubmitNumber(), ev.Continue(), ev.Knocked()]
    timed_out = [ev.RemovedByServer("timeout"), ev.Knocked()]
    state, phases, commands = run([*waiting, *timed_out, *timed_out, ev.RemovedByServer("t")])
    assert phases == [
        "idle",
        "number",
        "checks",
        "joining",
        "waiting",
        "joining",
        "waiting",
        "joining",
        "waiting",
        "error",
    ]
    assert sum(isinstance(c, cmd.Knock) for c in commands) == 3
    assert (state.error, state.knocks, state.lobby_knocks) == (ErrorKind.LOBBY_TIMEOUT, 3, 2)
    step = transition(state, ev.KnockAgain(), 30.0)
    assert step.state.phase is Phase.JOINING
    assert [type(c) for c in step.commands] == [cmd.Knock]
    final, phases, _ = run([ev.Knocked(), ev.Admitted()], step.state)
    assert phases == ["joining", "waiting", "in_call"] and final.knocks == 4


def test_own_lobby_limit_counts_like_the_nodes() -> None:
    no_auto = initial_state(Timing(reconnect=ReconnectPolicy(lobby_auto_knocks=0)))
    events = [ev.Tap(), *number(), ev.SubmitNumber(), ev.Continue(), ev.Knocked()]
    state, _, _ = run([*events, ev.LobbyTimeout()], no_auto)
    assert state.error is ErrorKind.LOBBY_TIMEOUT


def test_media_loss_rebuilds_the_call_until_media_returns() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    state, phases, commands = run(
        [
            ev.MediaLost(),  # outage declared: rebuild at once
            ev.MediaLost(),  # the rebuild did not get through: wait, then again
            ev.RetryDue(),
            ev.MediaLost(),
            ev.RetryDue(),
            ev.StillTrying(),
            ev.CallMediaStarted(),  # the new call's first picture
        ],
        in_call,
    )
    assert phases == ["in_call", "reconnecting", "in_call"]
    kinds = [
        (type(c).__name__, getattr(c, "timer", None))
        for c in commands
        if not isinstance(c, cmd.StartTimer) or c.timer is ev.RetryDue
    ]
    assert kinds == [
        ("RebuildCall", None),
        ("StartTimer", ev.RetryDue),
        ("RebuildCall", None),
        ("StartTimer", ev.RetryDue),
        ("RebuildCall", None),
    ]
    retries = [
        c.seconds for c in commands if isinstance(c, cmd.StartTimer) and c.timer is ev.RetryDue
    ]
    policy = ReconnectPolicy()
    assert retries == [policy.backoff(1), policy.backoff(2)]
    assert state.remote_media and not state.still_trying


def test_reconnecting_gives_up_at_the_limit() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    state, _, _ = run([ev.MediaLost(), ev.GiveUp()], in_call)
    assert (state.phase, state.error) == (Phase.ERROR, ErrorKind.CONNECTION_LOST)


def test_lost_participant_knocks_again_and_waits_to_be_let_in_again() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    state, phases, commands = run(
        [
            ev.ParticipantLost("node restarted"),
            ev.JoinFailed(ErrorKind.UNREACHABLE),  # the node is still down
            ev.RetryDue(),
            ev.Knocked(),
            ev.Admitted(),
            ev.CallMediaStarted(),
        ],
        in_call,
    )
    assert phases == ["in_call", "reconnecting", "waiting", "in_call"]
    assert sum(isinstance(c, cmd.Knock) for c in commands) == 2
    assert not any(isinstance(c, cmd.RebuildCall) for c in commands)
    assert state.knocks == 2 and state.call_started_at is not None


def test_a_permanent_failure_while_rejoining_is_shown() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    state, _, _ = run([ev.ParticipantLost(), ev.JoinFailed(ErrorKind.NOT_FOUND)], in_call)
    assert (state.phase, state.error) == (Phase.ERROR, ErrorKind.NOT_FOUND)


def test_node_restart_while_waiting_knocks_again() -> None:
    events = [ev.Tap(), *number(), ev.SubmitNumber(), ev.Continue(), ev.Knocked()]
    _, phases, _ = run([*events, ev.ParticipantLost(), ev.Knocked()])
    assert phases[-3:] == ["waiting", "reconnecting", "waiting"]


def test_clinician_ending_the_call_ends_it_for_the_patient() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    _, phases, commands = run([ev.RemovedByServer("host ended")], in_call)
    assert phases == ["in_call", "ended"] and isinstance(commands[0], cmd.EndCall)


def test_cancel_while_waiting_ends_the_call_and_wipes() -> None:
    events = [ev.Tap(), *number(), ev.SubmitNumber(), ev.Continue(), ev.Knocked(), ev.Cancel()]
    _, phases, commands = run(events)
    assert phases[-1] == "wiping"
    assert [type(c) for c in commands[-2:]] == [cmd.EndCall, cmd.Wipe]


def test_volume_is_clamped_and_commanded() -> None:
    in_call, _, _ = run(JOURNEY[:13])
    state, _, commands = run([ev.ChangeVolume(0.5), ev.ChangeVolume(0.5)], in_call)
    assert state.volume == 1.0
    assert [c for c in commands if isinstance(c, cmd.SetVolume)] == [
        cmd.SetVolume(1.0),
        cmd.SetVolume(1.0),
    ]


def test_late_network_events_after_the_end_are_ignored() -> None:
    ended, _, _ = run(JOURNEY[:14])
    assert ended.phase is Phase.ENDED
    for late in (ev.Admitted(), ev.MediaLost(), ev.RemovedByServer(), ev.CallMediaStarted()):
        step = transition(ended, late, 99.0)
        assert step.ignored and step.state is ended


def test_an_event_without_a_transition_names_event_and_phase() -> None:
    with pytest.raises(SessionError, match="can't handle Wiped in phase idle"):
        transition(initial_state(), ev.Wiped(), 1.0)
    with pytest.raises(SessionError, match="can't handle Digit in phase idle"):
        transition(initial_state(), ev.Digit("1"), 1.0)


def test_every_phase_can_be_left() -> None:
    for phase in Phase:
        assert handled_events(phase), phase


def test_phase_since_moves_only_on_phase_change() -> None:
    state, _, _ = run([ev.Tap(), ev.Digit("1"), ev.Digit("2")])
    assert state.phase_since == 1.0


def test_digit_must_be_a_digit() -> None:
    with pytest.raises(ValueError, match="got 'x'"):
        ev.Digit("x")


def test_patient_confirms_the_chime_where_the_kiosk_cannot_hear_it() -> None:
    from kiosk.session.state import CheckLine, CheckStatus

    unheard = CheckSummary(
        camera_ok=True,
        microphone_ok=True,
        speaker_ok=False,
        lines=(
            CheckLine("camera", CheckStatus.PASS),
            CheckLine("speaker", CheckStatus.WARN, "speaker.confirm"),
        ),
    )
    state, _, _ = run([ev.Tap(), *number(), ev.SubmitNumber(), ev.ChecksFinished(unheard)])
    step = transition(state, ev.HeardChime(), 20.0)
    assert step.state.checks is not None and step.state.checks.speaker_ok
    assert [(line.name, line.status) for line in step.state.checks.lines] == [
        ("camera", CheckStatus.PASS),
        ("speaker", CheckStatus.PASS),
    ]
    rerun = transition(step.state, ev.RerunChecks(), 21.0)
    assert rerun.state.checks is None and isinstance(rerun.commands[0], cmd.RunChecks)


def test_every_handler_takes_the_event_type_it_is_listed_for() -> None:
    """The table is the whole dispatch: a handler never has to ask what it got."""
    from typing import get_type_hints

    wrong = []
    for phase, row in TABLE.items():
        for event_type, handler in row.items():
            taken = get_type_hints(handler)["event"]
            if not issubclass(event_type, taken):
                wrong.append(f"{phase.value}: {event_type.__name__} -> {handler.__name__}")
    assert wrong == []


def test_every_phase_has_a_row_and_every_timer_a_place() -> None:
    assert set(TABLE) == set(Phase)
    timers = {t for t in vars(ev).values() if isinstance(t, type) and issubclass(t, ev.Timer)}
    handled = {t for row in TABLE.values() for t in row if issubclass(t, ev.Timer)}
    assert handled == timers - {ev.Timer}


def test_a_confirmed_chime_stays_confirmed_in_later_summaries_until_the_checks_rerun() -> None:
    from kiosk.session.state import CheckLine, CheckStatus

    unheard = CheckSummary(
        camera_ok=True,
        microphone_ok=True,
        speaker_ok=False,
        lines=(CheckLine("speaker", CheckStatus.WARN, "speaker.confirm"),),
    )
    state, _, _ = run([ev.Tap(), *number(), ev.SubmitNumber(), ev.ChecksFinished(unheard)])
    state, _, _ = run([ev.HeardChime(), ev.ChecksFinished(unheard)], state)
    assert state.checks is not None and state.checks.speaker_ok
    assert state.checks.lines[0].advice == "speaker.confirmed"
    state, _, _ = run([ev.RerunChecks(), ev.ChecksFinished(unheard)], state)
    assert state.checks is not None and not state.checks.speaker_ok
