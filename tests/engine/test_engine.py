"""The engine with real parts: the local conference node, a practitioner bot, aiortc calls,
PortAudio on a PulseAudio null sink and the synthetic camera."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kiosk.cli.demo import DEMO_ROOM, demo_config, demo_node
from kiosk.cli.journey import JourneyPlan, knock, run_journey
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig, with_overrides
from kiosk.engine.engine import Engine
from kiosk.refnode.server import RefNode
from kiosk.session import events as ev
from kiosk.session.state import ErrorKind, Phase
from tests.support.pulse import PulseServer

FULL_JOURNEY = [
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


def kiosk_config(base_url: str, **changes: Any) -> KioskConfig:
    return with_overrides(demo_config(base_url, KioskConfig(camera="synthetic")), **changes)


def phases_of(engine: Engine) -> list[str]:
    return list(engine.record.phases)


@pytest.fixture
async def node() -> AsyncIterator[str]:
    refnode = RefNode([DEMO_ROOM], waiting_timeout_s=1.5)
    base_url = await refnode.start("127.0.0.1", 0)
    yield base_url
    await refnode.stop()


async def test_whole_journey_on_real_parts(pulse_server: PulseServer) -> None:
    async with demo_node(admit_after_s=0.3) as demo:
        config = kiosk_config(demo.base_url)
        async with running_engine(config) as engine:
            result = await run_journey(engine, JourneyPlan(alias=demo.room.alias))
            assert engine.task_failures == []
        bot_video = demo.bot.video_frames_received
    assert result["states"] == FULL_JOURNEY
    assert result["remote_video_frames"] >= 50
    assert result["remote_audio_frames"] >= 100
    assert result["ended_clean"] is True
    assert result["tap_to_knock_s"] < 2.0
    assert result["admit_to_first_frame_s"] < 3.0
    assert bot_video > 0, "the practitioner saw no video from the kiosk"
    assert result["microphone_missing"] is False


async def test_unknown_number_says_so_and_offers_another(node: str) -> None:
    async with running_engine(kiosk_config(node)) as engine:
        await knock(engine, "999999")
        await engine.wait_for(lambda s: s.phase is Phase.ERROR, 10)
        assert engine.state.error is ErrorKind.NOT_FOUND
        engine.send(ev.TryAnotherNumber())
        await engine.wait_for(lambda s: s.phase is Phase.NUMBER, 5)
        assert engine.state.digits == ""
    assert phases_of(engine) == ["idle", "number", "checks", "joining", "error", "number"]


async def test_unreachable_node_says_so() -> None:
    # A port nothing listens on: bind one, then close it.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    config = kiosk_config(f"http://127.0.0.1:{port}")
    async with running_engine(config) as engine:
        await knock(engine, DEMO_ROOM.alias)
        await engine.wait_for(lambda s: s.phase is Phase.ERROR, 20)
        assert engine.state.error is ErrorKind.UNREACHABLE
        engine.send(ev.Dismiss())
        await engine.wait_for(lambda s: s.phase is Phase.IDLE, 5)
    assert phases_of(engine) == ["idle", "number", "checks", "joining", "error", "wiping", "idle"]


async def test_nobody_admits_knocks_again_by_itself_then_asks(node: str) -> None:
    # The node's waiting-for-host timeout is 1.5 s here (900 s in production).
    async with running_engine(kiosk_config(node, lobby_auto_knocks=1)) as engine:
        await knock(engine, DEMO_ROOM.alias)
        await engine.wait_for(lambda s: s.phase is Phase.ERROR, 15)
        assert engine.state.error is ErrorKind.LOBBY_TIMEOUT
        engine.send(ev.KnockAgain())
        await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
        assert engine.state.knocks == 3
        engine.send(ev.Cancel())
        await engine.wait_for(lambda s: s.phase is Phase.IDLE, 10)
    assert phases_of(engine) == [
        "idle",
        "number",
        "checks",
        "joining",
        "waiting",
        "joining",
        "waiting",
        "error",
        "joining",
        "waiting",
        "wiping",
        "idle",
    ]


async def test_no_camera_and_no_audio_device_still_joins(node: str) -> None:
    # No PulseAudio here and a camera name that does not exist: synthetic picture, silent mic.
    config = kiosk_config(node, camera="/dev/video-nothing", microphone="no such mic")
    async with running_engine(config) as engine:
        assert engine.devices.camera_synthetic
        await knock(engine, DEMO_ROOM.alias)
        await engine.wait_for(lambda s: s.phase is Phase.WAITING, 15)
        assert engine.state.checks is not None and engine.state.checks.camera_synthetic
        engine.send(ev.Cancel())
        await engine.wait_for(lambda s: s.phase is Phase.IDLE, 10)


def test_the_demo_refuses_a_patience_that_is_not_above_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kiosk.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--headless", "--patience", "0"])
    assert stopped.value.code == 2
    assert "--patience must be above 0, got 0.0" in capsys.readouterr().err
