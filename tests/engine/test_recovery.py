"""After an outage: the call we had, or a new one (kiosk/engine/recovery.py), on real aiortc
calls; the node's answer to a probe is what the test decides."""

from __future__ import annotations

import asyncio
import time

import pytest

from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.engine.recovery import Recovery, RecoveryTiming, recover
from kiosk.media.call import Call
from kiosk.media.signaling import connect
from kiosk.media.tracks import CameraVideoTrack, MicrophoneAudioTrack
from tests.media.test_call import FarEnd
from tests.support.pulse import PulseServer

TIMING = RecoveryTiming(probe_every_s=0.05, probe_timeout_s=0.2, grace_s=0.3)


class Node:
    """Answers probes from the `answers_after`-th on; counts them."""

    def __init__(self, answers_after: int) -> None:
        self.answers_after = answers_after
        self.probes = 0
        self.answered_at: float | None = None

    async def reachable(self, timeout_s: float) -> bool:
        self.probes += 1
        await asyncio.sleep(0.01)
        if self.probes >= self.answers_after:
            self.answered_at = self.answered_at or time.monotonic()
            return True
        return False


@pytest.fixture
async def idle_call() -> Call:
    """A call that was never connected: no packet ever arrives on it."""
    hub = CameraHub(SyntheticCamera(160, 120, fps=15.0), synthetic=True)
    audio = AudioIO("no such microphone", "no such speaker")
    call = Call(CameraVideoTrack(hub), MicrophoneAudioTrack(audio), audio)
    yield call
    await call.close()


async def test_a_known_dead_call_is_rebuilt_once_the_node_answers() -> None:
    node = Node(answers_after=4)
    assert await recover(None, node.reachable, TIMING) is Recovery.REBUILD
    assert node.probes == 4


async def test_a_closed_call_waits_for_the_node_without_a_grace(idle_call: Call) -> None:
    await idle_call.close()
    node = Node(answers_after=3)
    assert await recover(idle_call, node.reachable, TIMING) is Recovery.REBUILD
    assert node.answered_at is not None
    assert time.monotonic() - node.answered_at < TIMING.grace_s / 2


async def test_a_silent_old_call_gets_its_grace_then_a_new_call(idle_call: Call) -> None:
    node = Node(answers_after=2)
    assert await recover(idle_call, node.reachable, TIMING) is Recovery.REBUILD
    assert node.answered_at is not None
    assert time.monotonic() - node.answered_at >= TIMING.grace_s


async def test_media_on_the_old_call_keeps_it(pulse_server: PulseServer) -> None:
    hub = CameraHub(SyntheticCamera(160, 120, fps=15.0), synthetic=True)
    hub.start()
    audio = AudioIO("pulse", "pulse")
    audio.start()
    far = FarEnd()
    call = Call(CameraVideoTrack(hub), MicrophoneAudioTrack(audio), audio)
    try:
        await connect(call, far)
        await call.wait_first_video(timeout=10)
        never = Node(answers_after=10**6)
        async with asyncio.timeout(5):
            assert await recover(call, never.reachable, TIMING) is Recovery.RESUMED
    finally:
        await call.close()
        await far.close()
        audio.stop()
        hub.stop()


async def test_an_old_call_silent_past_the_trust_limit_is_not_waited_for(idle_call: Call) -> None:
    node = Node(answers_after=10**6)
    timing = RecoveryTiming(
        probe_every_s=0.05, probe_timeout_s=0.2, grace_s=5.0, old_call_trust_s=0.3
    )
    task = asyncio.ensure_future(recover(idle_call, node.reachable, timing))
    await asyncio.sleep(0.6)
    assert not task.done()  # past the limit, but the node has not answered yet
    node.answers_after = 0
    started = time.monotonic()
    assert await asyncio.wait_for(task, 2) is Recovery.REBUILD
    assert time.monotonic() - started < 1.0  # no grace for a call past the limit
