"""Real network faults during real consultations: the kiosk engine in this namespace, the
conference node with its practitioner in the lab's far namespace, HTTPS with verification.

Each test asserts where the patient ends up (in the call, or waiting to be let in again where
the protocol requires a new participant) and the history of phases on the way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from kiosk.cli.journey import knock as knock_on
from kiosk.cli.wiring import running_engine
from kiosk.engine.engine import Engine
from kiosk.session.state import Phase
from tests.support.far_end import ROOM_ALIAS, FarEnd
from tests.support.netns import NetLab
from tests.support.pulse import PulseServer


@pytest.fixture
def far(netlab: NetLab) -> Iterator[FarEnd]:
    end = FarEnd(netlab)
    end.start()
    yield end
    end.stop()


@pytest.fixture
async def engine(far: FarEnd, pulse_server: PulseServer) -> AsyncIterator[Engine]:
    async with running_engine(far.config()) as running:
        yield running
        assert running.task_failures == []


async def knock(engine: Engine) -> None:
    await knock_on(engine, ROOM_ALIAS)


async def in_call_with_media(engine: Engine, timeout: float = 20.0) -> None:
    await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, timeout)


async def media_flows(engine: Engine, within: float = 10.0) -> None:
    """New remote video and audio frames arrive within `within` seconds."""
    video, audio = engine.live_media_counts()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        now_video, now_audio = engine.live_media_counts()
        if now_video > video + 5 and now_audio > audio + 10:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"no media after {within} s: {engine.live_media_counts()}")


def phases_since(engine: Engine, start: int) -> list[str]:
    return engine.record.phases[start:]


def collapse(phases: list[str]) -> list[str]:
    return [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]


@pytest.mark.parametrize("cut_s", [2.0, 10.0, 30.0])
async def test_link_cut_during_a_call_comes_back_to_the_call(
    engine: Engine, netlab: NetLab, cut_s: float, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kiosk")
    await knock(engine)
    await in_call_with_media(engine)
    mark = len(engine.record.phases)
    built = engine.live_calls_built()
    netlab.cut()
    await asyncio.sleep(cut_s)
    if cut_s >= 10:
        # Long enough for the kiosk to have said so, and kept the patient informed.
        assert engine.state.phase is Phase.RECONNECTING
    if cut_s >= 30:
        # "Vi prøver fortsatt" comes 30 s after the outage was declared.
        await engine.wait_for(lambda s: s.still_trying, 10)
    netlab.restore()
    await in_call_with_media(engine, timeout=15)
    await media_flows(engine)
    phases = collapse(phases_since(engine, mark))
    assert phases in (["reconnecting", "in_call"], [])
    if phases and engine.live_calls_built() == built:
        # Back on the call we kept: its ICE consent is confirmed at once, so that another
        # outage soon after does not inherit this one's failed checks.
        for _ in range(50):
            if "ICE consent after the outage: refreshed" in caplog.text:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("expected the call's ICE consent refreshed after the outage")


async def test_twenty_percent_loss_for_ten_seconds_keeps_the_call(
    engine: Engine, netlab: NetLab
) -> None:
    await knock(engine)
    await in_call_with_media(engine)
    netlab.impair(loss_pct=20)
    await asyncio.sleep(10)
    netlab.clear()
    await in_call_with_media(engine, timeout=15)
    await media_flows(engine)


async def test_node_restart_while_waiting_knocks_again(
    engine: Engine, far: FarEnd, netlab: NetLab
) -> None:
    far.kill()
    far_slow = FarEnd(netlab, admit_after_s=600.0)
    far_slow.share_certificate(far)
    far_slow.start()
    await knock(engine)
    await engine.wait_for(lambda s: s.phase is Phase.WAITING, 15)
    mark = len(engine.record.phases)
    far_slow.kill()
    far.start()  # the node is back, with a practitioner who admits at once
    await in_call_with_media(engine, timeout=30)
    assert collapse(phases_since(engine, mark))[-2:] == ["waiting", "in_call"]
    assert "reconnecting" in phases_since(engine, mark)


async def test_node_restart_during_a_call_waits_to_be_let_in_again(
    engine: Engine, far: FarEnd
) -> None:
    await knock(engine)
    await in_call_with_media(engine)
    mark = len(engine.record.phases)
    far.restart()
    await engine.wait_for(lambda s: s.phase is Phase.WAITING, 30)
    await in_call_with_media(engine, timeout=30)
    await media_flows(engine)
    assert collapse(phases_since(engine, mark)) == ["reconnecting", "waiting", "in_call"]


async def test_event_stream_cut_keeps_the_call(engine: Engine, far: FarEnd) -> None:
    await knock(engine)
    await in_call_with_media(engine)
    mark = len(engine.record.phases)
    far.command("drop_streams")
    await asyncio.sleep(3)
    await media_flows(engine)
    assert phases_since(engine, mark) == []


async def test_refused_token_refresh_knocks_again(
    far: FarEnd, netlab: NetLab, pulse_server: PulseServer
) -> None:
    far.kill()
    short = FarEnd(netlab, token_lifetime_s=6.0)
    short.share_certificate(far)
    short.start()
    try:
        async with running_engine(short.config()) as engine:
            await knock(engine)
            await in_call_with_media(engine)
            mark = len(engine.record.phases)
            short.command("refuse_refresh")
            # Tokens live 6 s here and are refreshed at half-life: the refusals soon turn
            # into a lost participant, a new knock, and the practitioner's admit.
            await engine.wait_for(lambda s: s.phase is not Phase.IN_CALL, 20)
            await engine.wait_for(lambda s: s.phase is Phase.WAITING, 20)
            assert collapse(phases_since(engine, mark))[:2] == ["reconnecting", "waiting"]
            assert engine.task_failures == []
    finally:
        short.stop()
