"""Observers of the engine (metrics, ctl, anything subscribed) watch a consultation; a failing
one is logged and counted and the consultation goes on, on real parts."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from kiosk.base.status import CheckStatus
from kiosk.cli.demo import demo_config, demo_node
from kiosk.cli.journey import JourneyPlan, run_journey
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.fleet.management import Management
from kiosk.fleet.metrics import KioskMetrics
from kiosk.session import events as ev
from kiosk.session.state import Phase, SessionState
from tests.checks.audio import say
from tests.support.pulse import PulseServer

FULL_JOURNEY = ["idle", "number", "checks", "joining", "waiting", "in_call", "ended", "wiping",
                "idle"]  # fmt: skip


async def test_a_raising_observer_does_not_stop_the_consultation(
    pulse_server: PulseServer, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    failures: list[BaseException] = []

    def broken(state: SessionState) -> None:
        calls.append(state.phase.value)
        raise ValueError("an observer that fails on every state")

    async with demo_node(admit_after_s=0.3) as demo:
        config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
        async with running_engine(config, on_task_failure=failures.append) as engine:
            engine.subscribe(broken)
            with caplog.at_level(logging.ERROR, logger="kiosk.engine.engine"):
                result = await run_journey(
                    engine, JourneyPlan(alias=demo.room.alias, call_seconds=2)
                )
            assert engine.task_failures == []
            counted = engine.observer_failures
    assert failures == []
    assert result["states"] == FULL_JOURNEY
    assert result["ended_clean"] is True
    # It was told of every state change and failed on each, and each failure was counted...
    assert counted == len(calls) > len(FULL_JOURNEY)
    assert [p for i, p in enumerate(calls) if i == 0 or calls[i - 1] != p] == FULL_JOURNEY[1:]
    # ...but logged once, with its traceback, not once per state.
    logged = [r for r in caplog.records if "an observer of the session failed" in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None


async def test_metrics_take_checks_that_complete_with_passing_lines(
    pulse_server: PulseServer,
) -> None:
    # A consultation whose checks complete with a passing line used to end the process: the
    # metrics knew "ok", the session said "pass", and the ValueError killed the engine.
    failures: list[BaseException] = []
    metrics = KioskMetrics(CollectorRegistry())
    async with demo_node(admit_after_s=0.3) as demo:
        config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
        async with running_engine(config, on_task_failure=failures.append) as engine:
            management = Management(engine, metrics)
            engine.send(ev.Tap())
            for digit in demo.room.alias:
                engine.send(ev.Digit(digit))
            engine.send(ev.SubmitNumber())
            await engine.wait_for(lambda s: s.phase is Phase.CHECKS, 5)
            engine.send(ev.HeardChime())
            await say(pulse_server, "God dag, jeg er klar for timen min hos legen.")
            await engine.wait_for(lambda s: s.checks is not None and s.checks.complete, 20)
            lines = {line.name: line.status for line in engine.state.checks.lines}  # type: ignore[union-attr]
            engine.send(ev.Continue())
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL, 20)
            engine.send(ev.HangUp())
            await engine.wait_for(lambda s: s.phase is Phase.ENDED, 5)
            engine.send(ev.Dismiss())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 10)
            management.close()
            assert engine.task_failures == []
            counted = engine.observer_failures
            phases = list(engine.record.phases)
    assert failures == [] and counted == 0
    assert phases == FULL_JOURNEY
    assert lines["speaker"] is CheckStatus.PASS and CheckStatus.PASS in lines.values(), lines
    values = {
        (s.labels["check"], s.labels["status"]): s.value
        for family in metrics.registry.collect()
        if family.name == "kiosk_check_status"
        for s in family.samples
    }
    # Each check's series say exactly what the check screen said.
    assert {
        check: next(status for status in ("pass", "warn", "fail") if values[(check, status)])
        for check, _ in values
    } == {name: status.value for name, status in lines.items()}
