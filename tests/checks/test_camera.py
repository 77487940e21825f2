"""The camera check on a hub fed by scenes: rate, black, frozen, synthetic and a camera pulled
out and plugged back in mid-check."""

from __future__ import annotations

import asyncio

import numpy as np

from kiosk.base.status import CheckStatus
from kiosk.checks.live import DeviceChecks
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from scenes.render import SceneSpec, render_scene
from tests.checks.scenes import SIZE, UnpluggedBetween, live, running_hub, sample

RUNNING = (CheckStatus.RUNNING, "camera.checking")
OK = (CheckStatus.PASS, "camera.ok")


async def watch(hub: CameraHub, seconds: float) -> DeviceChecks:
    checks = DeviceChecks(hub, AudioIO())
    pump = asyncio.create_task(checks.pump_frames())
    try:
        await sample(checks.report, seconds)
    finally:
        pump.cancel()
    return checks


async def test_a_live_camera_passes_with_its_frame_rate() -> None:
    async with running_hub(live(SceneSpec(seed=1))) as hub:
        checks = await watch(hub, 1.5)
    assert checks.camera.history.changes == [RUNNING, OK]
    result = checks.report().results[0]
    fps = result.figure("fps")
    assert fps is not None and 14.0 <= fps <= 21.0
    assert result.figure("black") == 0.0 and result.figure("frozen") == 0.0


async def test_the_synthetic_camera_says_so() -> None:
    async with running_hub(live(SceneSpec(seed=1)), synthetic=True) as hub:
        checks = await watch(hub, 1.2)
    assert checks.camera.history.changes == [RUNNING, (CheckStatus.WARN, "camera.synthetic")]


async def test_a_frozen_picture_fails() -> None:
    still = render_scene(SceneSpec(seed=1), SIZE)  # one buffer sent again and again
    async with running_hub(lambda t: still) as hub:
        checks = await watch(hub, 1.2)
    assert checks.camera.history.changes == [RUNNING, (CheckStatus.FAIL, "camera.frozen")]


async def test_a_black_picture_fails() -> None:
    async with running_hub(live(SceneSpec(seed=1, brightness=0.05))) as hub:
        checks = await watch(hub, 1.2)
    assert checks.camera.history.changes == [RUNNING, (CheckStatus.FAIL, "camera.black")]


async def test_a_dim_but_live_picture_is_not_black() -> None:
    async with running_hub(live(SceneSpec(seed=1, brightness=0.25))) as hub:
        checks = await watch(hub, 1.2)
    assert checks.camera.history.changes == [RUNNING, OK]


async def test_a_slow_camera_fails_below_five_fps_and_warns_below_fourteen() -> None:
    async with running_hub(live(SceneSpec(seed=1)), fps=4.0) as hub:
        slow = await watch(hub, 2.0)
    async with running_hub(live(SceneSpec(seed=1)), fps=10.0) as hub:
        sluggish = await watch(hub, 1.5)
    assert slow.camera.history.changes == [RUNNING, (CheckStatus.FAIL, "camera.slow")]
    assert sluggish.camera.history.changes == [RUNNING, (CheckStatus.WARN, "camera.slow")]


async def test_a_camera_pulled_out_mid_check_fails_then_recovers() -> None:
    source = UnpluggedBetween(live(SceneSpec(seed=1)), gone_at=1.2, back_at=2.4)
    async with running_hub(source) as hub:
        checks = await watch(hub, 4.2)
        states = [s.value for s in hub.state_history]
    assert checks.camera.history.changes == [
        RUNNING,
        OK,
        (CheckStatus.FAIL, "camera.unplugged"),
        RUNNING,
        OK,
    ]
    assert states == ["stopped", "starting", "running", "unplugged", "running"]
    # Light and framing forget the frames from before the unplug and judge afresh after it.
    assert checks.picture.light_history.changes == [
        (CheckStatus.RUNNING, "light.checking"),
        (CheckStatus.PASS, "light.ok"),
        (CheckStatus.RUNNING, "light.checking"),
        (CheckStatus.PASS, "light.ok"),
    ]


async def test_no_camera_at_all_fails_after_the_stall_time() -> None:
    source = UnpluggedBetween(live(SceneSpec(seed=1)), gone_at=0.0, back_at=60.0)
    async with running_hub(source) as hub:
        checks = await watch(hub, 1.0)
    assert checks.camera.history.changes == [(CheckStatus.FAIL, "camera.unplugged")]
    assert np.all([r.status is not CheckStatus.PASS for r in checks.report().results[:3]])


def test_a_busy_kiosk_that_looks_rarely_still_sees_a_live_camera() -> None:
    """The check looks at the newest frame only when the event loop gets to it: on a loaded
    terminal that may be every 0.7 s. The camera delivered 15 fps all along, which the frame
    numbers show, so the check must judge it live, not wait forever or call it unplugged."""
    from kiosk.checks.camera import CameraCheck
    from kiosk.devices.camera import CameraState

    rng = np.random.default_rng(3)
    check = CameraCheck(synthetic=False, started=0.0)
    verdicts = []
    for look in range(1, 8):
        at = look * 0.7
        seq = round(at * 15)
        grey = rng.integers(60, 200, (48, 64), dtype=np.uint8)
        check.feed(seq, grey, at)
        verdicts.append(check.result(at + 0.05, CameraState.RUNNING, newest_at=at).advice)
    # One look is no measurement; from the second on, 15 fps live.
    assert verdicts == ["camera.checking"] + ["camera.ok"] * 6


def test_a_camera_that_really_pauses_starts_the_measurement_afresh() -> None:
    from kiosk.checks.camera import CameraCheck
    from kiosk.devices.camera import CameraState

    rng = np.random.default_rng(4)
    check = CameraCheck(synthetic=False, started=0.0)
    for seq in range(1, 16):
        check.feed(seq, rng.integers(60, 200, (48, 64), dtype=np.uint8), seq / 15)
    assert check.result(1.05, CameraState.RUNNING, newest_at=1.0).advice == "camera.ok"
    # The next frame comes 0.8 s later with the very next number: the camera stopped.
    check.feed(16, rng.integers(60, 200, (48, 64), dtype=np.uint8), 1.8)
    assert check.result(1.85, CameraState.RUNNING, newest_at=1.8).advice == "camera.checking"
