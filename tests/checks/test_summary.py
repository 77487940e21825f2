"""The engine's view of the checks: live summaries of every check in parallel on real parts,
the patient's confirmation of the chime, and the one-shot run within its time budget."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import aclosing

import pytest

from kiosk.config import KioskConfig
from kiosk.engine.checks_runner import live_checks, run_quick_checks
from kiosk.refnode.server import RefNode
from kiosk.session import events as ev
from kiosk.session.machine import initial_state, transition
from kiosk.session.state import CheckStatus, CheckSummary, Phase
from scenes.render import SceneSpec
from tests.checks.audio import running_audio
from tests.checks.scenes import live, running_hub
from tests.support.pulse import PulseServer

NAMES = ["camera", "light", "framing", "microphone", "speaker", "network"]


@pytest.fixture
async def node() -> AsyncIterator[str]:
    refnode = RefNode([])
    base_url = await refnode.start("127.0.0.1", 0)
    yield base_url
    await refnode.stop()


def lines(summary: CheckSummary) -> dict[str, tuple[CheckStatus, str]]:
    return {line.name: (line.status, line.advice) for line in summary.lines}


async def test_live_summaries_settle_on_a_good_scene(pulse_server: PulseServer, node: str) -> None:
    config = KioskConfig(node_url=node, allowed_hosts=("127.0.0.1",))
    summaries: list[CheckSummary] = []
    async with running_audio() as audio, running_hub(live(SceneSpec(seed=1))) as hub:
        feed = live_checks(hub, audio, config, interval_s=0.25)
        async with aclosing(feed):
            async for summary in feed:
                summaries.append(summary)
                if lines(summary)["speaker"][0] is CheckStatus.PASS:
                    break
    first, settled = summaries[0], summaries[-1]
    assert [line.name for line in first.lines] == NAMES
    assert all(line.status is CheckStatus.RUNNING for line in first.lines)
    assert not first.complete and not first.camera_ok
    assert lines(settled) == {
        "camera": (CheckStatus.PASS, "camera.ok"),
        "light": (CheckStatus.PASS, "light.ok"),
        "framing": (CheckStatus.PASS, "framing.ok"),
        "microphone": (CheckStatus.RUNNING, "microphone.say_something"),
        "speaker": (CheckStatus.PASS, "speaker.ok"),
        "network": (CheckStatus.PASS, "network.ok"),
    }
    assert settled.camera_ok and settled.microphone_ok and settled.speaker_ok
    assert not settled.complete  # still waiting for the patient's voice


async def test_the_patients_word_turns_an_unheard_chime_into_a_pass_for_good(
    pulse_server: PulseServer,
) -> None:
    """The checks cannot hear the chime (the speaker sink is muted) and keep saying so; once
    the patient says they heard it, the session's summary says pass, summary after summary."""
    pulse_server.pactl("set-sink-mute", pulse_server.speaker_sink, "1")
    state = dataclasses.replace(initial_state(), phase=Phase.CHECKS)
    seen: list[tuple[CheckStatus, str]] = []
    after_confirmation = 0
    try:
        async with running_audio() as audio, running_hub(live(SceneSpec(seed=1))) as hub:
            feed = live_checks(hub, audio, interval_s=0.25)
            async with aclosing(feed):
                async for summary in feed:
                    state = transition(state, ev.ChecksFinished(summary), 0.0).state
                    assert state.checks is not None
                    line = lines(state.checks)["speaker"]
                    if not seen or seen[-1] != line:
                        seen.append(line)
                    if line == (CheckStatus.WARN, "speaker.confirm"):
                        state = transition(state, ev.HeardChime(), 0.0).state
                    elif state.speaker_heard:
                        assert lines(summary)["speaker"][0] is not CheckStatus.PASS
                        assert state.checks.speaker_ok
                        after_confirmation += 1
                        if after_confirmation == 3:
                            break
    finally:
        pulse_server.pactl("set-sink-mute", pulse_server.speaker_sink, "0")
    assert seen == [
        (CheckStatus.RUNNING, "speaker.playing"),
        (CheckStatus.WARN, "speaker.confirm"),
        (CheckStatus.PASS, "speaker.confirmed"),
    ]


async def test_the_one_shot_check_answers_within_five_seconds(
    pulse_server: PulseServer, node: str
) -> None:
    config = KioskConfig(node_url=node, allowed_hosts=("127.0.0.1",))
    async with running_audio() as audio, running_hub(live(SceneSpec(seed=1))) as hub:
        started = time.monotonic()
        summary = await run_quick_checks(hub, audio, config)
        took = time.monotonic() - started
    assert took <= 5.0
    assert {name: status for name, (status, _) in lines(summary).items()} == {
        "camera": CheckStatus.PASS,
        "light": CheckStatus.PASS,
        "framing": CheckStatus.PASS,
        "microphone": CheckStatus.RUNNING,
        "speaker": CheckStatus.PASS,
        "network": CheckStatus.PASS,
    }


async def test_without_any_devices_every_failure_is_named() -> None:
    config = KioskConfig(node_url="http://127.0.0.1:9", allowed_hosts=("127.0.0.1",))
    async with (
        running_audio("no such microphone", "no such speaker") as audio,
        running_hub(live(SceneSpec(seed=1, brightness=0.05))) as hub,
    ):
        summary = await run_quick_checks(hub, audio, config)
    assert lines(summary) == {
        "camera": (CheckStatus.FAIL, "camera.black"),
        "light": (CheckStatus.FAIL, "light.too_dark"),
        "framing": (CheckStatus.FAIL, "framing.no_face"),
        "microphone": (CheckStatus.FAIL, "microphone.missing"),
        "speaker": (CheckStatus.FAIL, "speaker.missing"),
        "network": (CheckStatus.FAIL, "network.node_unreachable"),
    }
    assert summary.complete and not summary.camera_ok and not summary.speaker_ok
    assert summary.microphone_unheard
