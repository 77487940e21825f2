"""Camera frame analysis time per 1280×720 frame.

`analysis_figures` measures light + framing + face count on every frame as the kiosk runs it
(faces confirmed around where they were, the whole picture searched every fourth frame), and
with the whole picture searched on every frame, in wall-clock and in this thread's CPU time
(which other processes on the machine disturb less); `check_all_figures` times the whole
device check on a good scene with the null-sink audio, and counts how many times each camera
frame it looked at was converted (greyed and shrunk), in whole frames read.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit, median, p95, time_ms

from kiosk.base.frames import BgrFrame
from kiosk.base.memory import tune_malloc
from kiosk.checks.live import first_decided, run_checks
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.vision.analysis import FrameAnalyser
from scenes.render import SceneSpec, moving, render_scene
from tests.support.conversions import Conversions, CountedCamera, counting_conversions


def camera_frames(count: int = 150) -> list[BgrFrame]:
    return [moving(i / 15, size=(1280, 720)) for i in range(count)]


def analysis_figures(frames: list[BgrFrame]) -> dict[str, Any]:
    """As the kiosk runs it (faces confirmed around where they were on every frame, the
    whole picture searched every fourth), and with the whole picture searched on every
    frame, so the cost of each part is visible."""
    tracked = FrameAnalyser()
    timed: list[tuple[float, Any]] = []
    cpu: list[float] = []
    for frame in frames:
        start_cpu = time.thread_time()
        timed.append(time_ms(lambda f=frame: tracked.analyse(f)))
        cpu.append((time.thread_time() - start_cpu) * 1000.0)
    times = [ms for ms, _ in timed]
    recounts = [ms for ms, analysis in timed if analysis.faces_recounted]
    whole = FrameAnalyser(recount_every=1)
    full = [time_ms(lambda f=frame: whole.analyse(f))[0] for frame in frames]
    return {
        "analysis_ms_median_720p": median(times),
        "analysis_ms_mean_720p": round(sum(times) / len(times), 3),
        "analysis_ms_p95_720p": p95(times),
        "analysis_cpu_ms_median_720p": median(cpu),
        "analysis_recount_frames": len(recounts),
        "analysis_recount_ms_median_720p": median(recounts),
        "analysis_whole_search_every_frame_ms_median_720p": median(full),
        "analysis_faces_found_fraction": round(
            sum(1 for _, a in timed if a.framing.face_count == 1) / len(timed), 3
        ),
        "analysis_frames": len(frames),
    }


async def _check_once(hub: CameraHub, audio: AudioIO) -> tuple[float, dict[str, str]]:
    started = time.monotonic()
    async for report in run_checks(hub, audio, interval_s=0.05):
        if first_decided(report):
            verdicts = {r.name: r.status.value for r in report.results}
            return time.monotonic() - started, verdicts
    raise AssertionError("the check reports ended without being stopped")


def check_all_figures(runs: int = 3) -> dict[str, Any]:
    """Time from starting the device checks until every one has answered (the microphone
    waiting only for the patient's voice), on a good scene at 640x480, 15 fps, with the chime
    played and heard through a private PulseAudio null sink. No network line: its time is
    the node's, not this machine's."""
    from tests.support.pulse import start_pulse

    pulse = start_pulse()
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = pulse.server
    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    still = render_scene(SceneSpec(seed=1), (640, 480))
    rng = np.random.default_rng(1)
    noisy = [
        np.clip(still + rng.normal(0, 2.0, still.shape), 0, 255).astype(np.uint8) for _ in range(6)
    ]
    counts = Conversions()
    camera = CountedCamera(640, 480, 15.0, lambda t: noisy[round(t * 15) % 6], counts)
    hub = CameraHub(camera)
    audio = AudioIO()
    times: list[float] = []
    verdicts: dict[str, str] = {}
    try:
        hub.start()
        audio.start()
        time.sleep(0.5)
        with counting_conversions(counts):
            for _ in range(runs):
                took, verdicts = asyncio.run(_check_once(hub, audio))
                times.append(took)
    finally:
        audio.stop()
        hub.stop()
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        pulse.stop()
    converted = counts.per_frame()
    return {
        "check_frames_converted": len(converted),
        "check_conversions_per_frame_mean": round(sum(converted) / len(converted), 3),
        "check_conversions_per_frame_max": max(converted),
        "check_all_s": round(median(times), 3),
        "check_all_s_max": round(max(times), 3),
        "check_all_runs": runs,
        "check_all_verdicts": verdicts,
    }


def main() -> None:
    cv2.setNumThreads(1)
    tune_malloc()  # as the kiosk runs
    frames = camera_frames()
    result: dict[str, Any] = {}
    result.update(analysis_figures(frames))
    result.update(check_all_figures())
    emit(result)


if __name__ == "__main__":
    main()
