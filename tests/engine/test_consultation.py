"""The consultation (one knock: participant, event stream, call) in the real engine against
the reference node in its Pexip personalities, with a practitioner bot and aiortc calls."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kiosk.cli.demo import DEMO_ROOM, demo_config
from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig, with_overrides
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.engine.consultation import Consultation
from kiosk.engine.engine import Engine
from kiosk.media.tracks import SendFormat
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.personality import Personality
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.support.pulse import PulseServer

OTHER_ROOM = RoomSpec(alias="135790", host_pin="86420")
UNTIL_WAITING = ["idle", "number", "checks", "joining", "waiting"]


@dataclass
class Node:
    node: RefNode
    base_url: str

    def guests(self, alias: str = DEMO_ROOM.alias) -> list[str]:
        room = self.node.room(alias)
        return [p.uuid for p in room.participants.values() if not p.is_host]

    def joins(self, alias: str = DEMO_ROOM.alias) -> int:
        return sum(1 for what, _, _ in self.node.room(alias).journal if what == "join")


@pytest.fixture
async def refnode() -> AsyncIterator[Node]:
    node = RefNode([DEMO_ROOM, OTHER_ROOM])
    base_url = await node.start("127.0.0.1", 0)
    yield Node(node, base_url)
    await node.stop()


def kiosk_config(base_url: str, **changes: Any) -> KioskConfig:
    changes.setdefault("ended_return_s", 1.0)
    return with_overrides(demo_config(base_url, KioskConfig(camera="synthetic")), **changes)


async def until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Waiting starts with the token; the event stream opens just after it."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.02)


def consultation(engine: Engine) -> Consultation:
    found = engine._consultation
    assert found is not None
    return found


async def test_a_trickling_node_gets_its_candidates_applied_and_media_flows(
    refnode: Node, pulse_server: PulseServer
) -> None:
    refnode.node.personality = Personality(trickle_ice=True)
    bot = PractitionerBot(refnode.base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin, admit_after_s=0.3)
    await bot.start()
    try:
        async with running_engine(kiosk_config(refnode.base_url)) as engine:
            await knock(engine, DEMO_ROOM.alias)
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 20)
            call = consultation(engine)._call
            assert call is not None and call.remote_candidates_applied > 0
            assert refnode.guests() == [bot.admitted[0]] and refnode.joins() == 2
            engine.send(ev.HangUp())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
            assert engine.task_failures == []
    finally:
        await bot.leave()
    assert engine.record.phases == [*UNTIL_WAITING, "in_call", "ended", "wiping", "idle"]


async def test_a_patient_removed_on_purpose_while_waiting_does_not_knock_again(
    refnode: Node,
) -> None:
    config = kiosk_config(refnode.base_url, microphone="no such mic")
    async with running_engine(config) as engine:
        await knock(engine, DEMO_ROOM.alias)
        await engine.wait_for(lambda s: s.phase is Phase.WAITING, 15)
        room = refnode.node.room(DEMO_ROOM.alias)
        (guest,) = room.participants.values()
        await until(lambda: bool(guest.streams))
        # As the clinician's "remove" does it, in Pexip's words (wire example disconnect.json).
        room.remove(guest, "Disconnected by remote host", "disconnected by host")
        await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
    assert engine.record.phases == [*UNTIL_WAITING, "ended", "wiping", "idle"]
    assert refnode.joins() == 1


async def test_refer_leaves_and_joins_the_other_room_with_the_one_time_token(
    refnode: Node,
) -> None:
    config = kiosk_config(refnode.base_url, microphone="no such mic")
    # A host in the other room: a conference nobody has started keeps the patient waiting.
    bot = PractitionerBot(refnode.base_url, OTHER_ROOM.alias, OTHER_ROOM.host_pin)
    await bot.start()
    async with running_engine(config) as engine:
        await knock(engine, DEMO_ROOM.alias)
        await engine.wait_for(lambda s: s.phase is Phase.WAITING, 15)
        (uuid,) = refnode.guests()
        await until(lambda: bool(refnode.node.room(DEMO_ROOM.alias).participants[uuid].streams))
        refnode.node.refer(DEMO_ROOM.alias, uuid, OTHER_ROOM.alias)
        # The one-time token lets the patient past the other room's waiting room.
        await engine.wait_for(lambda s: s.phase is Phase.IN_CALL, 15)
        assert refnode.guests() == [] and len(refnode.guests(OTHER_ROOM.alias)) == 1
        assert refnode.joins(OTHER_ROOM.alias) == 2  # the host and the patient, once
        engine.send(ev.HangUp())
        await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
        assert engine.task_failures == []
    await bot.leave()
    assert engine.record.phases == [*UNTIL_WAITING, "in_call", "ended", "wiping", "idle"]
    assert refnode.guests(OTHER_ROOM.alias) == []


async def test_slow_calls_and_ack_are_waited_for(refnode: Node, pulse_server: PulseServer) -> None:
    refnode.node.personality = Personality(calls_delay_s=3.0, ack_delay_s=3.0)
    bot = PractitionerBot(refnode.base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin, admit_after_s=0.3)
    await bot.start()
    try:
        async with running_engine(kiosk_config(refnode.base_url)) as engine:
            await knock(engine, DEMO_ROOM.alias)
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 30)
            engine.send(ev.HangUp())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
            assert engine.task_failures == []
    finally:
        await bot.leave()
    assert engine.record.phases == [*UNTIL_WAITING, "in_call", "ended", "wiping", "idle"]
    assert refnode.joins() == 2


async def test_direct_media_with_a_trickled_offer_connects_both_ways(
    pulse_server: PulseServer,
) -> None:
    node = RefNode([RoomSpec(DEMO_ROOM.alias, DEMO_ROOM.host_pin, direct_media=True)])
    node.personality = Personality(trickle_ice=True)
    base_url = await node.start("127.0.0.1", 0)
    bot = PractitionerBot(base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin, admit_after_s=0.3)
    await bot.start()
    try:
        async with running_engine(kiosk_config(base_url)) as engine:
            await knock(engine, DEMO_ROOM.alias)
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 20)
            call = consultation(engine)._call
            assert call is not None and call.remote_candidates_applied > 0
            await until(lambda: bot.video_frames_received > 0)
            engine.send(ev.HangUp())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
            assert engine.task_failures == []
    finally:
        await bot.leave()
        await node.stop()
    assert engine.record.phases == [*UNTIL_WAITING, "in_call", "ended", "wiping", "idle"]


async def test_in_a_conference_nobody_started_the_patient_waits_until_the_host_comes(
    refnode: Node, pulse_server: PulseServer
) -> None:
    # A node that puts guests in the conference before any host (which service type a guest
    # then has is not published): conference_update.started=false is what says "wait".
    room = refnode.node.room(DEMO_ROOM.alias)
    room.locked = False
    refnode.node.personality = Personality(guests_enter_before_host=True)
    async with running_engine(kiosk_config(refnode.base_url)) as engine:
        await knock(engine, DEMO_ROOM.alias)
        await engine.wait_for(lambda s: s.phase is Phase.WAITING, 15)
        (patient,) = room.participants.values()
        assert patient.service_type == "conference"
        await asyncio.sleep(1.0)
        assert engine.state.phase is Phase.WAITING
        bot = PractitionerBot(refnode.base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin)
        await bot.start()
        try:
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 20)
            engine.send(ev.HangUp())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
            assert engine.task_failures == []
        finally:
            await bot.leave()
    assert engine.record.phases == [*UNTIL_WAITING, "in_call", "ended", "wiping", "idle"]


async def test_a_given_camera_pinned_format_and_bot_picture_are_what_the_call_carries(
    refnode: Node, pulse_server: PulseServer
) -> None:
    pinned = SendFormat(1280, 720, 30)
    camera = CameraHub(SyntheticCamera(1280, 720, 30.0), synthetic=True)
    bot = PractitionerBot(
        refnode.base_url,
        DEMO_ROOM.alias,
        DEMO_ROOM.host_pin,
        admit_after_s=0.3,
        video=(320, 240, 15.0),
    )
    await bot.start()
    try:
        config = kiosk_config(refnode.base_url)
        async with running_engine(config, camera=camera, send_format=pinned) as engine:
            await knock(engine, DEMO_ROOM.alias)
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 20)
            found = consultation(engine)
            track = found._camera_track
            assert track is not None and found._quality is not None
            await until(lambda: track.frames_sent > 0)
            assert track.source_size == (1280, 720)
            # Longer than the controller's first samples: it does not move the picture.
            await asyncio.sleep(1.5)
            assert track.send_format == pinned
            assert [change.send for change in found._quality.history] == [pinned]
            remote = engine.remote_frame()
            assert remote is not None and remote[1].shape == (240, 320, 3)
            engine.send(ev.HangUp())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
    finally:
        await bot.leave()
    assert camera.state_history[-1].value == "stopped"
