"""All device checks at once, re-judged continuously while the check screen is up.

`run_checks` starts the camera and microphone pumps, the chime and the network measurement in
parallel and yields a `CheckReport` every `interval_s` until the caller stops iterating (or is
cancelled), so a patient who turns on the light sees the light line turn green within a second
or so. Frames are analysed on a worker thread, a few a second, never blocking the loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Sequence

import numpy as np

from kiosk.base.status import CheckStatus
from kiosk.base.tasks import cancel_and_wait
from kiosk.checks.camera import CameraCheck
from kiosk.checks.microphone import MicrophoneCheck
from kiosk.checks.network import NetworkCheck, StatusProbe
from kiosk.checks.picture import PictureCheck
from kiosk.checks.speaker import SpeakerCheck
from kiosk.checks.turn import TurnTarget
from kiosk.checks.verdict import CheckReport, CheckResult
from kiosk.devices.audio import BLOCK, AudioIO
from kiosk.devices.camera import CameraHub, CameraState
from kiosk.vision.worker import vision_worker

FRAME_POLL_S = 0.02
ANALYSE_EVERY_S = 0.2
MIC_POLL_S = 0.04
# The chime's echo may still arrive this long after the speaker check stopped listening.
CHIME_ECHO_S = 0.3


class DeviceChecks:
    """The checks' state for one run; `run_checks` drives it."""

    def __init__(
        self,
        camera: CameraHub,
        audio: AudioIO,
        network: StatusProbe | None = None,
        turn: Sequence[TurnTarget] = (),
    ) -> None:
        self.started = time.monotonic()
        self._hub = camera
        self._audio = audio
        self.camera = CameraCheck(camera.synthetic, self.started)
        self.picture = PictureCheck()
        self.microphone = MicrophoneCheck(self.started)
        self.speaker = SpeakerCheck()
        self.network = NetworkCheck(network, turn) if network is not None else None
        self._leftover = np.zeros(0, np.int16)
        self._analyser = vision_worker()
        self._chime_until = 0.0

    def report(self) -> CheckReport:
        now = time.monotonic()
        newest = self._hub.latest()
        camera = self.camera.result(
            now, self._hub.state, newest.captured_at if newest is not None else None
        )
        if camera.advice == "camera.unplugged":
            self.picture.clear()
        results: list[CheckResult] = [
            camera,
            self.picture.light(),
            self.picture.framing(),
            self.microphone.result(now, self._audio.microphone_missing),
            self.speaker.result(),
        ]
        if self.network is not None:
            results.append(self.network.result())
        return CheckReport(tuple(results), round(now - self.started, 3))

    async def pump_frames(self) -> None:
        loop = asyncio.get_running_loop()
        seen, analysed_at = -1, 0.0
        while True:
            frame = self._hub.latest()
            if frame is not None and frame.seq != seen and self._hub.state is CameraState.RUNNING:
                seen = frame.seq
                # Reduced once, off the loop; the camera check and the picture share it.
                grey = await loop.run_in_executor(self._analyser, frame.small_grey)
                self.camera.feed(frame.seq, grey, frame.captured_at)
                if frame.captured_at - analysed_at >= ANALYSE_EVERY_S:
                    analysed_at = frame.captured_at
                    analysis = await loop.run_in_executor(
                        self._analyser, self.picture.analyse, grey
                    )
                    self.picture.add(frame.captured_at, analysis)
            await asyncio.sleep(FRAME_POLL_S)

    async def pump_microphone(self) -> None:
        buffer = self._audio.mic_buffer
        buffer.clear()  # what the microphone heard before the checks began is not evidence
        while True:
            await asyncio.sleep(MIC_POLL_S)
            self.take_microphone()

    def take_microphone(self) -> None:
        now = time.monotonic()
        data = np.concatenate((self._leftover, self._audio.mic_buffer.read(1 << 20)))
        whole = len(data) // BLOCK
        self._leftover = data[whole * BLOCK :]
        if self.speaker.busy:
            self._chime_until = now + CHIME_ECHO_S
        for i in range(whole):
            block = data[i * BLOCK : (i + 1) * BLOCK]
            at = now - (whole - 1 - i) * BLOCK / 48_000
            self.speaker.feed(block, at)
            if now >= self._chime_until:
                self.microphone.feed(block, at)

    async def play_chime(self) -> None:
        await self.speaker.run(self._audio)
        self.take_microphone()

    async def reports(self, interval_s: float = 0.5) -> AsyncGenerator[CheckReport, None]:
        """Run every check; yield a report now and every `interval_s` until stopped."""
        jobs = [self.pump_frames(), self.pump_microphone(), self.play_chime()]
        if self.network is not None:
            jobs.append(self.network.run())
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            while True:
                for task in tasks:
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise RuntimeError("a device check stopped unexpectedly") from (
                            task.exception()
                        )
                yield self.report()
                await asyncio.sleep(interval_s)
        finally:
            await cancel_and_wait(*tasks)


def run_checks(
    camera: CameraHub,
    audio: AudioIO,
    *,
    network: StatusProbe | None = None,
    turn: Sequence[TurnTarget] = (),
    interval_s: float = 0.5,
) -> AsyncGenerator[CheckReport, None]:
    """Successive reports of every check until the caller stops; the first comes at once."""
    return DeviceChecks(camera, audio, network, turn).reports(interval_s)


def first_decided(report: CheckReport) -> bool:
    """Every check has an answer, or waits only for the patient to speak."""
    return all(
        r.status is not CheckStatus.RUNNING or r.advice == "microphone.say_something"
        for r in report.results
    )
