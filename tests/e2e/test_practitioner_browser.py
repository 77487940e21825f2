"""The whole consultation with Chromium as the practitioner: the kiosk engine knocks on the
reference node, the practitioner page lists the patient, a click on Admit lets them in, and
video and audio flow both ways until the patient presses the yellow button."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable

import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from kiosk.cli.demo import demo_config
from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.pexip import Admitted, Conference, InfinityClient, RemoteOffer, Removed, Signal, Waiting
from kiosk.refnode import RefNode, RoomSpec
from kiosk.refnode.room import REMOVED_BY_HOST_REASON as REMOVED_BY_HOST
from kiosk.refnode.tracks import PatternTrack, ToneTrack, drain
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.e2e.practitioner_page import PractitionerPage, chromium
from tests.support.pulse import PulseServer

ALIAS, HOST_PIN = "246810", "97531"
PATIENT = KioskConfig().display_name
# A guest's offer is ignored in a direct-media room; any session description will do.
IGNORED_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
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


def speaker_level(pulse: PulseServer, seconds: float) -> float:
    """The loudest 20 ms of what the kiosk's speaker plays, read back from the null sink's
    monitor (RMS, full scale 1.0). Chromium's fake microphone beeps about once a second,
    so a window over a second long holds at least one beep."""
    env = {**os.environ, "PULSE_SERVER": pulse.server}
    block = 48_000 // 50
    size = int(48_000 * seconds) * 2
    recorder = subprocess.Popen(
        [
            "parec",
            "--raw",
            "--format=s16le",
            "--rate=48000",
            "--channels=1",
            "--latency-msec=20",
            f"--device={pulse.speaker_sink}.monitor",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert recorder.stdout is not None
        raw = recorder.stdout.read(size)
    finally:
        recorder.kill()
        recorder.wait(timeout=5)
    samples = np.frombuffer(raw[: len(raw) // 2 * 2], dtype=np.int16) / 32768.0
    blocks = samples[: samples.size // block * block].reshape(-1, block)
    return float(np.sqrt(np.mean(blocks**2, axis=1)).max()) if blocks.size else 0.0


async def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, f"expected {what} within {timeout} s"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("direct_media", [False, True], ids=["transcoded", "direct-media"])
async def test_chromium_practitioner_admits_talks_and_sees_the_patient_leave(
    pulse_server: PulseServer, direct_media: bool
) -> None:
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=direct_media)])
    base_url = await node.start()
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            async with running_engine(config) as engine:
                await knock(engine, ALIAS)
                await engine.wait_for(lambda s: s.phase is Phase.WAITING, 10)
                await page.wait_waiting(PATIENT)
                assert await page.names("waiting") == [PATIENT]
                assert await page.names("in-call") == []
                # Nobody gets in by themselves, and nothing is heard before admission.
                silent_while_waiting = await asyncio.to_thread(speaker_level, pulse_server, 0.5)
                assert engine.state.phase is Phase.WAITING

                await page.admit(PATIENT)
                await engine.wait_for(lambda s: s.remote_media, 10)
                await _until(
                    lambda: engine.live_media_counts() >= (30, 100),
                    10,
                    "the practitioner's video and audio at the kiosk",
                )
                kiosk_speaker = await asyncio.to_thread(speaker_level, pulse_server, 1.5)
                await page.wait_for("window.practitioner.videoFrames >= 30", 10)
                await page.wait_for(
                    """window.practitioner.stats().then(s =>
                        s.framesDecoded >= 30 && s.audioEnergy > 0)""",
                    10,
                )
                page_stats = await page.stats()
                in_call = await page.names("in-call")

                engine.send(ev.HangUp())
                await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)
                await page.wait_for("window.practitioner.departed.length === 1", 10)
                engine.send(ev.Dismiss())
                await engine.wait_for(lambda s: s.phase is Phase.IDLE, 10)
                assert engine.task_failures == []
                phases = list(engine.record.phases)
            seen = await page.state()
            waiting_after = await page.names("waiting")
            in_call_after = await page.names("in-call")
    finally:
        await node.stop()

    assert phases == FULL_JOURNEY
    assert in_call == [PATIENT]
    assert waiting_after == [] and in_call_after == []
    # The browser's fake microphone beeps; the kiosk played it, and only once let in.
    assert silent_while_waiting < 0.001 < 0.02 < kiosk_speaker
    assert page_stats["framesDecoded"] >= 30 and page_stats["audioEnergy"] > 0
    media_note = "joined (direct media)" if direct_media else "joined"
    expected_log = (
        ["joining", media_note, "admitted", "media connected", "peer disconnected", "patient left"]
        if direct_media
        else ["joining", media_note, "media connected", "admitted", "patient left"]
    )
    assert seen["log"] == expected_log
    assert seen["admitted"] == seen["departed"] and len(seen["departed"]) == 1


async def test_chromium_practitioner_in_a_direct_media_room_with_an_aiortc_guest() -> None:
    """The page's direct-media path now, with the guest side the kiosk will take: join with
    direct_media, place a call, answer the RemoteOffer and ack the answer."""
    node = RefNode([RoomSpec(ALIAS, HOST_PIN, direct_media=True)])
    base_url = await node.start()
    client = InfinityClient(base_url, ["127.0.0.1"])
    guest = Conference(client, ALIAS)
    pc = RTCPeerConnection()
    pc.addTrack(ToneTrack())
    pc.addTrack(PatternTrack())
    received = {"audio": [0], "video": [0]}
    drains: list[asyncio.Task[None]] = []
    pc.on("track", lambda t: drains.append(asyncio.ensure_future(drain(t, received[t.kind]))))
    signals: list[Signal] = []
    try:
        async with chromium() as browser:
            page = await PractitionerPage.open(browser, base_url, ALIAS, HOST_PIN)
            await guest.join("Kari", direct_media=True)
            assert await guest.place_call(IGNORED_OFFER) == ""
            iterator = guest.signals().__aiter__()
            signals.append(await asyncio.wait_for(iterator.__anext__(), 5))
            await page.wait_waiting("Kari")
            await page.admit("Kari")
            signals.append(await asyncio.wait_for(iterator.__anext__(), 5))
            offer = await asyncio.wait_for(iterator.__anext__(), 10)
            signals.append(offer)
            assert isinstance(offer, RemoteOffer)
            await pc.setRemoteDescription(RTCSessionDescription(offer.sdp, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await guest.ack(pc.localDescription.sdp)
            await _until(
                lambda: received["video"][0] >= 20 and received["audio"][0] >= 50,
                15,
                "Chromium's camera and microphone at the guest",
            )
            await page.wait_for(
                """window.practitioner.stats().then(s =>
                    s.framesDecoded >= 20 && s.audioEnergy > 0)""",
                15,
            )
            await page.end("Kari")
            signals.append(await asyncio.wait_for(iterator.__anext__(), 5))
            await page.wait_for("window.practitioner.departed.length === 1", 5)
            seen = await page.state()
    finally:
        for task in drains:
            task.cancel()
        await pc.close()
        await guest.leave()
        await client.close()
        await node.stop()

    assert signals == [Waiting(), Admitted(), RemoteOffer(offer.sdp), Removed(REMOVED_BY_HOST)]
    log = seen["log"]
    assert log[:4] == ["joining", "joined (direct media)", "admitted", "media connected"]
    # The End request's answer and the node's events race; the node's own order is fixed.
    assert sorted(log[4:]) == ["disconnected the patient", "patient left", "peer disconnected"]
    assert log.index("peer disconnected") < log.index("patient left")
