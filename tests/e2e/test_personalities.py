"""The kiosk engine as the patient, Chromium as the practitioner, the reference node in each
of its Pexip personalities (kiosk/refnode/personality.py): every run ends in media both ways
or in the state the patient should see, with the whole phase history asserted and never more
than one participant per knock in the node's roster."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable

import pytest

from kiosk.base.clock import ManualClock
from kiosk.cli.demo import demo_config
from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig, with_overrides
from kiosk.engine.engine import Engine
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.personality import Personality
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.e2e.practitioner_page import PractitionerPage, chromium
from tests.support.pulse import PulseServer

ALIAS, HOST_PIN = "246810", "97531"
OTHER, OTHER_PIN = "135790", "86420"
PATIENT = KioskConfig().display_name
TO_WAITING = ["idle", "number", "checks", "joining", "waiting"]
AFTER_CALL = ["in_call", "ended", "wiping", "idle"]

MATRIX = {
    "transcoded": (False, Personality()),
    "transcoded-trickle": (False, Personality(trickle_ice=True)),
    "direct": (True, Personality()),
    "direct-trickle": (True, Personality(trickle_ice=True)),
    "slow-answers-20s": (False, Personality(calls_delay_s=20.0, ack_delay_s=20.0)),
    "502-burst": (False, Personality(gateway_errors=3, gateway_endpoints=("request_token",))),
}


class Roster:
    """Watches the node's roster the whole time: the most guests it ever held in a room."""

    def __init__(self, node: RefNode) -> None:
        self.node = node
        self.most: dict[str, int] = {}

    async def run(self) -> None:
        while True:
            for alias, room in self.node.rooms.items():
                guests = sum(1 for p in room.participants.values() if not p.is_host)
                self.most[alias] = max(self.most.get(alias, 0), guests)
            await asyncio.sleep(0.005)


@pytest.fixture
async def watched() -> AsyncIterator[Callable[[RefNode], Roster]]:
    tasks: list[asyncio.Task[None]] = []

    def watch(node: RefNode) -> Roster:
        roster = Roster(node)
        tasks.append(asyncio.ensure_future(roster.run()))
        return roster

    yield watch
    for task in tasks:
        task.cancel()


async def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"expected {what} within {timeout} s"
        await asyncio.sleep(0.05)


async def _media_both_ways(
    engine: Engine, page: PractitionerPage | None, timeout: float = 30
) -> None:
    """New media at the kiosk (30 frames, 100 audio frames beyond what it had) and, with a
    page, decoded frames at the practitioner's browser."""
    video, audio = engine.live_media_counts()
    await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, timeout)
    await _until(
        lambda: engine.live_media_counts() >= (video + 30, audio + 100), 15, "media at the kiosk"
    )
    if page is not None:
        await page.wait_for("window.practitioner.videoFrames >= 30", 15)


async def _hang_up_and_wipe(engine: Engine) -> None:
    engine.send(ev.HangUp())
    await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)
    engine.send(ev.Dismiss())
    await engine.wait_for(lambda s: s.phase is Phase.IDLE, 10)
    assert engine.task_failures == []


@pytest.mark.parametrize("name", list(MATRIX))
async def test_every_personality_ends_in_media_both_ways(
    pulse_server: PulseServer, watched: Callable[[RefNode], Roster], name: str
) -> None:
    direct_media, personality = MATRIX[name]
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=direct_media)])
    base_url = await node.start()
    roster = watched(node)
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            # After the page joined, so that only the kiosk meets a burst.
            node.personality = dataclasses.replace(personality)
            async with running_engine(config) as engine:
                await knock(engine, ALIAS)
                await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
                await page.wait_waiting(PATIENT)
                await page.admit(PATIENT)
                await _media_both_ways(engine, page, timeout=60)  # slow answers: 40 s
                await _hang_up_and_wipe(engine)
    finally:
        await node.stop()
    assert engine.record.phases == [*TO_WAITING, *AFTER_CALL]
    assert roster.most[ALIAS] == 1
    joins = [who for what, who, _ in node.room(ALIAS).journal if what == "join"]
    assert len(joins) == 2  # the practitioner and one patient


async def test_refer_moves_the_patient_to_the_other_room_and_media_flows_there(
    pulse_server: PulseServer, watched: Callable[[RefNode], Roster]
) -> None:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN), RoomSpec(OTHER, OTHER_PIN)])
    base_url = await node.start()
    roster = watched(node)
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    try:
        async with chromium() as browser:
            await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            other = await PractitionerPage.open(browser, base_url, OTHER, OTHER_PIN)
            async with running_engine(config) as engine:
                await knock(engine, ALIAS)
                await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
                room = node.room(ALIAS)
                (patient,) = [p for p in room.participants.values() if not p.is_host]
                await _until(lambda: bool(patient.streams), 5, "the patient's event stream")
                node.refer(ALIAS, patient.uuid, OTHER)
                await engine.wait_for(lambda s: s.remote_media, 20)
                await other.wait_for("window.practitioner.videoFrames >= 30", 15)
                await _hang_up_and_wipe(engine)
    finally:
        await node.stop()
    assert engine.record.phases == [*TO_WAITING, *AFTER_CALL]
    assert roster.most == {ALIAS: 1, OTHER: 1}


async def test_removed_on_purpose_while_waiting_ends_without_a_new_knock(
    pulse_server: PulseServer, watched: Callable[[RefNode], Roster]
) -> None:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN)])
    base_url = await node.start()
    roster = watched(node)
    config = with_overrides(
        demo_config(base_url, KioskConfig(camera="synthetic")), ended_return_s=1.0
    )
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            async with running_engine(config) as engine:
                await knock(engine, ALIAS)
                await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
                await page.wait_waiting(PATIENT)
                room = node.room(ALIAS)
                (patient,) = [p for p in room.participants.values() if not p.is_host]
                await _until(lambda: bool(patient.streams), 5, "the patient's event stream")
                # What the page's remove does on the node, in Pexip's words.
                room.remove(patient, "Disconnected by remote host", "disconnected by host")
                await engine.wait_for(lambda s: s.phase is Phase.IDLE, 15)
                assert engine.task_failures == []
    finally:
        await node.stop()
    assert engine.record.phases == [*TO_WAITING, "ended", "wiping", "idle"]
    assert roster.most[ALIAS] == 1
    assert sum(1 for what, _, _ in node.room(ALIAS).journal if what == "join") == 2


async def test_a_conference_nobody_started_keeps_the_patient_waiting_until_the_practitioner_comes(
    pulse_server: PulseServer, watched: Callable[[RefNode], Roster]
) -> None:
    # A node that puts guests of an open room in the conference before any host is there;
    # only conference_update.started=false says that nothing has begun yet.
    node = RefNode([RoomSpec(ALIAS, HOST_PIN)])
    node.room(ALIAS).locked = False
    node.personality = Personality(guests_enter_before_host=True)
    base_url = await node.start()
    roster = watched(node)
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    try:
        async with running_engine(config) as engine:
            await knock(engine, ALIAS)
            await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
            (patient,) = node.room(ALIAS).participants.values()
            assert patient.service_type == "conference"
            await asyncio.sleep(1.5)
            assert engine.state.phase is Phase.WAITING
            async with chromium() as browser:
                page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
                await _media_both_ways(engine, page)
                await _hang_up_and_wipe(engine)
    finally:
        await node.stop()
    assert engine.record.phases == [*TO_WAITING, *AFTER_CALL]
    assert roster.most[ALIAS] == 1


async def test_after_the_host_timeout_the_kiosk_knocks_again_and_is_let_in(
    pulse_server: PulseServer, watched: Callable[[RefNode], Roster]
) -> None:
    """The node's waiting-for-host timeout (900 s, Pexip's default) on a clock the test moves,
    shared by the node and the kiosk; the practitioner in Chromium lets the second knock in."""
    clock = ManualClock(start=0.0)
    # Tokens that outlive the test's 15 minutes: the browser refreshes on its own clock.
    node = RefNode(
        [RoomSpec(ALIAS, HOST_PIN)], clock=clock, waiting_timeout_s=900.0, token_lifetime_s=1e5
    )
    base_url = await node.start()
    roster = watched(node)
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            async with running_engine(config, clock=clock) as engine:
                await knock(engine, ALIAS)
                await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
                await page.wait_waiting(PATIENT)
                (first,) = [p.uuid for p in node.room(ALIAS).participants.values() if not p.is_host]
                while first in node.room(ALIAS).participants:
                    assert clock.now() <= 901.0, "the node never timed the patient out"
                    await clock.advance(10.0)
                    await asyncio.sleep(0.005)
                await engine.wait_for(
                    lambda s: s.phase is Phase.WAITING and s.lobby_knocks == 1, 15
                )
                await page.wait_waiting(PATIENT)
                await page.admit(PATIENT)
                await _media_both_ways(engine, None)
                await _hang_up_and_wipe(engine)
    finally:
        await node.stop()
    assert engine.record.phases == [*TO_WAITING, "joining", "waiting", *AFTER_CALL]
    assert roster.most[ALIAS] == 1
    leaves = [why for what, _, why in node.room(ALIAS).journal if what == "leave"]
    assert leaves[0] == "waiting timeout"
    assert sum(1 for what, _, _ in node.room(ALIAS).journal if what == "join") == 3


async def test_direct_media_a_practitioner_who_drops_and_comes_back_gets_the_call_again(
    pulse_server: PulseServer, watched: Callable[[RefNode], Roster]
) -> None:
    """The node tells the patient `peer_disconnect` when the practitioner's browser leaves;
    the kiosk places a new call and answers the next practitioner's offer on it."""
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=True)])
    base_url = await node.start()
    roster = watched(node)
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            async with running_engine(config) as engine:
                await knock(engine, ALIAS)
                await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
                await page.wait_waiting(PATIENT)
                await page.admit(PATIENT)
                await engine.wait_for(lambda s: s.remote_media, 30)
                await page.page.click("#leave")
                await engine.wait_for(lambda s: s.phase is Phase.RECONNECTING, 10)
                again = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
                await _media_both_ways(engine, again)
                await _hang_up_and_wipe(engine)
    finally:
        await node.stop()
    assert engine.record.phases == [*TO_WAITING, "in_call", "reconnecting", *AFTER_CALL]
    assert roster.most[ALIAS] == 1
    journal = node.room(ALIAS).journal
    assert ("peer_disconnect", engine_guest(journal), "") in journal


def engine_guest(journal: list[tuple[str, str, str]]) -> str:
    """The patient's participant uuid: the one the node offered a call to."""
    return next(who for what, who, _ in journal if what == "offer")
