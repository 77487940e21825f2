"""Send quality under real impairment: the kiosk's Call in the root namespace, an aiortc
answerer behind the fault lab's wire, loss and delay switched on and off."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from kiosk.devices.audio import BLOCK
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.media.call import Call
from kiosk.media.quality import QualityController, QualityPolicy
from kiosk.media.tracks import CameraVideoTrack, MicrophoneAudioTrack
from tests.support.netns import NetLab
from tests.support.netns import netlab as netlab

# Answers one offer from stdin, then reports every change of the decoded picture size. Like a
# browser, it asks for a keyframe when its picture freezes while packets come (the kiosk's own
# mend, `FrozenPicture`): plain aiortc would hold every picture behind a packet lost for good
# for up to 512 packets, a minute at 320x240, and the test would measure that instead.
_FAR = """
import asyncio, json, sys
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from kiosk.media import aiortc_hooks as hooks
from kiosk.media.call import InboundCounters
from kiosk.media.liveness import FrozenPicture, Mend

async def main():
    pc = RTCPeerConnection()
    loop = asyncio.get_running_loop()
    counts = {"packets": 0, "frames": 0, "ssrc": None}

    def arrived(packet):
        counts["packets"] += 1
        counts["ssrc"] = packet.ssrc

    async def mend(receiver):
        frozen = FrozenPicture()
        while True:
            await asyncio.sleep(0.1)
            seen = InboundCounters(video_packets=counts["packets"], video_frames=counts["frames"])
            ask = frozen.feed(seen, loop.time())
            if ask is not None and counts["ssrc"] is not None:
                if ask is Mend.RESTART:
                    hooks.restart_video_jitter_buffer(receiver)
                await hooks.send_keyframe_request(receiver, counts["ssrc"])

    async def watch(track):
        size = None
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                counts["frames"] += 1
                if (frame.width, frame.height) != size:
                    size = (frame.width, frame.height)
                    print(json.dumps({"size": list(size)}), flush=True)

    pc.on("track", lambda track: loop.create_task(watch(track)))
    offer = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    await pc.setRemoteDescription(RTCSessionDescription(**offer))
    for transceiver in pc.getTransceivers():
        if transceiver.kind == "video":
            hooks.on_rtp(transceiver.receiver, arrived)
            loop.create_task(mend(transceiver.receiver))
    await pc.setLocalDescription(await pc.createAnswer())
    print(json.dumps({"sdp": pc.localDescription.sdp}), flush=True)
    await loop.run_in_executor(None, sys.stdin.readline)
    await pc.close()

asyncio.run(main())
"""


class Silence:
    def read_mic(self, count: int = BLOCK) -> np.ndarray:
        return np.zeros(count, np.int16)

    def play(self, samples: np.ndarray) -> None:
        pass

    def queued_s(self) -> float:
        return 0.0


class Lines:
    """The far peer's stdout as JSON lines, read on a daemon thread (a blocked read must not
    hold up the event loop's shutdown)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._process = process
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in iter(self._process.stdout.readline, b""):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, line)
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, b"")

    async def next(self, timeout: float) -> dict[str, object]:
        line = await asyncio.wait_for(self._queue.get(), timeout)
        if not line:
            raise AssertionError(
                f"expected a line from the far peer, it exited with {self._process.poll()}"
            )
        reply: dict[str, object] = json.loads(line)
        return reply


async def _until(
    predicate: Callable[[], bool], timeout: float, what: str, seen: Callable[[], object]
) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"expected {what} within {timeout} s; saw {seen()}")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_send_quality_steps_down_under_loss_and_back_up_after(netlab: NetLab) -> None:
    far = netlab.spawn([sys.executable, "-c", _FAR], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    hub = CameraHub(SyntheticCamera(640, 480, fps=15.0), synthetic=True)
    hub.start()
    track = CameraVideoTrack(hub)
    call = Call(track, MicrophoneAudioTrack(Silence()), Silence())
    # The encoder check is left loose: this test is about the network, on a shared machine.
    policy = QualityPolicy(min_keep_up=0.3, up_after_s=3.0)
    controller = QualityController(call.outbound_video, track, policy=policy, interval_s=0.25)
    sizes: list[tuple[int, int]] = []
    runner: asyncio.Task[None] | None = None
    reader: asyncio.Task[None] | None = None

    async def read_sizes() -> None:
        while True:
            size = (await lines.next(3600))["size"]
            assert isinstance(size, list)
            sizes.append((size[0], size[1]))

    def seen() -> str:
        steps = [(round(c.at, 1), c.level.rung, c.reason) for c in controller.history]
        return f"quality steps {steps}, far-end sizes {sizes}"

    lines = Lines(far)
    try:
        assert far.stdin is not None
        offer = await call.offer()
        far.stdin.write((json.dumps({"sdp": offer, "type": "offer"}) + "\n").encode())
        far.stdin.flush()
        answer = (await lines.next(15))["sdp"]
        assert isinstance(answer, str)
        await call.accept_answer(answer)
        reader = asyncio.get_running_loop().create_task(read_sizes())
        await _until(lambda: sizes == [(640, 480)], 10, "the far end to decode 640x480", seen)
        runner = asyncio.get_running_loop().create_task(controller.run())

        await asyncio.sleep(3.0)  # a clean link keeps the full picture
        assert [c.level.rung for c in controller.history] == [0]

        netlab.impair(loss_pct=15, delay_ms=150)
        # Two steps: each needs a receiver report showing the loss (aiortc sends one every
        # 0.5-1.5 s, and one in seven is lost too), the second also the hold after the first.
        down_limit_s = policy.down_hold_s + 3 * 1.5
        down_s = await _until(
            lambda: controller.level.rung >= 2, down_limit_s + 2, "rung 2 or lower", seen
        )
        await asyncio.sleep(2.0)
        impaired_rungs = [c.level.rung for c in controller.history]

        netlab.clear()
        up_s = await _until(lambda: controller.level.rung == 0, 25, "rung 0 again", seen)
        await _until(lambda: sizes[-1] == (640, 480), 10, "640x480 at the far end", seen)
    finally:
        for task in (runner, reader):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await call.close()
        hub.stop()
        if far.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                far.stdin.write(b"\n")
                far.stdin.close()

    assert down_s < down_limit_s, f"stepped down after {down_s:.1f} s; {seen()}"
    # Down only while impaired, never up; the worst rung reached at least 320x240.
    assert impaired_rungs == sorted(impaired_rungs) and impaired_rungs[-1] >= 2
    rungs = [c.level.rung for c in controller.history]
    worst = rungs.index(max(rungs))
    assert rungs[: worst + 1] == sorted(rungs[: worst + 1])
    # Back up one rung at a time, each after a good spell.
    assert rungs[worst:] == list(range(max(rungs), -1, -1))
    ups = [c.at for c in controller.history[worst:]]
    assert all(b - a >= policy.up_after_s for a, b in itertools.pairwise(ups))
    assert up_s < 3 * policy.up_after_s + 6
    # The far end decoded the smaller pictures and then the full one again.
    assert sizes[0] == (640, 480) and (320, 240) in sizes and sizes[-1] == (640, 480)
