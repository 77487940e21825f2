"""Light and framing over frames from a hub: each rule on both sides, majority over the window,
and the live change when the patient fixes the light."""

from __future__ import annotations

import asyncio

import pytest

from kiosk.base.frames import small_grey
from kiosk.base.status import CheckStatus
from kiosk.checks.live import DeviceChecks
from kiosk.checks.picture import PictureCheck, majority
from kiosk.devices.audio import AudioIO
from kiosk.devices.synthetic import Renderer, SyntheticCamera
from scenes.render import FaceSpec, SceneSpec
from tests.checks.scenes import FPS, SIZE, live, running_hub, sample, switching
from tests.support.conversions import Conversions, CountedCamera, counting_conversions

TWO = SceneSpec(seed=3, faces=(FaceSpec(cx=0.3, height=0.3), FaceSpec(cx=0.7, height=0.3)))


async def watch(render: Renderer | SyntheticCamera, seconds: float) -> DeviceChecks:
    async with running_hub(render) as hub:
        checks = DeviceChecks(hub, AudioIO())
        pump = asyncio.create_task(checks.pump_frames())
        try:
            await sample(checks.report, seconds)
        finally:
            pump.cancel()
    return checks


@pytest.mark.parametrize(
    ("spec", "light", "framing", "faces"),
    [
        (SceneSpec(seed=1), (CheckStatus.PASS, "light.ok"), (CheckStatus.PASS, "framing.ok"), 1),
        (
            SceneSpec(seed=1, brightness=0.25),
            (CheckStatus.FAIL, "light.too_dark"),
            (CheckStatus.FAIL, "framing.no_face"),
            0,
        ),
        (
            SceneSpec(seed=2, backlight=True),
            (CheckStatus.WARN, "light.backlit"),
            (CheckStatus.FAIL, "framing.no_face"),
            0,
        ),
        (
            SceneSpec(seed=3, faces=()),
            (CheckStatus.PASS, "light.ok"),
            (CheckStatus.FAIL, "framing.no_face"),
            0,
        ),
        (TWO, (CheckStatus.PASS, "light.ok"), (CheckStatus.WARN, "framing.people_count"), 2),
    ],
    ids=["good", "dark", "backlit", "no_face", "two_faces"],
)
async def test_each_scene_gets_its_verdict(
    spec: SceneSpec,
    light: tuple[CheckStatus, str],
    framing: tuple[CheckStatus, str],
    faces: int,
) -> None:
    checks = await watch(live(spec), 1.3)
    assert checks.picture.light_history.changes == [(CheckStatus.RUNNING, "light.checking"), light]
    assert checks.picture.framing_history.changes == [
        (CheckStatus.RUNNING, "framing.checking"),
        framing,
    ]
    assert checks.picture.framing().figure("faces") == faces


async def test_the_camera_check_and_the_picture_share_one_conversion_of_each_frame() -> None:
    counts = Conversions()
    camera = CountedCamera(SIZE[0], SIZE[1], FPS, live(SceneSpec(seed=1)), counts)
    with counting_conversions(counts):
        checks = await watch(camera, 1.3)
    per_frame = counts.per_frame()
    assert len(per_frame) >= 10  # frames looked at, by the camera check and the picture
    assert set(per_frame) == {1.0}
    assert checks.picture.light_history.changes[-1] == (CheckStatus.PASS, "light.ok")


async def test_turning_the_light_on_turns_the_line_green_within_a_second() -> None:
    dark, good = live(SceneSpec(seed=1, brightness=0.25)), live(SceneSpec(seed=1))
    checks = await watch(switching(dark, good, at_s=1.2), 2.8)
    assert checks.picture.light_history.changes == [
        (CheckStatus.RUNNING, "light.checking"),
        (CheckStatus.FAIL, "light.too_dark"),
        (CheckStatus.PASS, "light.ok"),
    ]
    assert checks.picture.framing_history.changes == [
        (CheckStatus.RUNNING, "framing.checking"),
        (CheckStatus.FAIL, "framing.no_face"),
        (CheckStatus.PASS, "framing.ok"),
    ]


def test_a_single_odd_frame_does_not_flip_the_verdict_but_a_lasting_change_does() -> None:
    picture = PictureCheck()
    good = picture.analyse(small_grey(live(SceneSpec(seed=1))(0.0)))
    dark = picture.analyse(small_grey(live(SceneSpec(seed=1, brightness=0.25))(0.0)))
    # Five analyses a second; one dark frame (a hand passing the lens) among good ones.
    for i, analysis in enumerate([good] * 5 + [dark] + [good] * 2):
        picture.add(i * 0.2, analysis)
        picture.light()
    for i, analysis in enumerate([dark] * 5, start=8):
        picture.add(i * 0.2, analysis)
        picture.light()
    assert picture.light_history.changes == [
        (CheckStatus.RUNNING, "light.checking"),
        (CheckStatus.PASS, "light.ok"),
        (CheckStatus.FAIL, "light.too_dark"),
    ]


def test_majority_prefers_the_newer_advice_on_a_tie() -> None:
    assert majority(["a", "b", "a"]) == "a"
    assert majority(["a", "b"]) == "b"
    assert majority(["b", "a", "a", "b"]) == "b"
