"""The engine reads join codes on the number screen and checks staff PINs, on real parts:
a camera hub fed with generated scenes through the synthetic source, the real QR scanner,
and scrypt."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import numpy as np
import numpy.typing as npt

from kiosk.base.pins import hash_pin
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from kiosk.session.state import Phase, StaffRole
from scenes.render import QrSpec, SceneSpec, render_scene

CONFIG = KioskConfig(
    node_url="https://join.example.no",
    allowed_hosts=("join.example.no", "video.example.no"),
    nurse_pin_hash=hash_pin("246813", n=2**10),
)


def showing(payload: str) -> Callable[[float], npt.NDArray[np.uint8]]:
    frame = render_scene(SceneSpec(qr=QrSpec(payload, side=0.6)), size=(640, 480))
    return lambda t: frame


@asynccontextmanager
async def engine_with(
    render: Callable[[float], npt.NDArray[np.uint8]], config: KioskConfig = CONFIG
) -> AsyncIterator[Engine]:
    camera = CameraHub(SyntheticCamera(640, 480, 15, render=render), synthetic=True)
    audio = AudioIO("no such microphone", "no such speaker")
    camera.start()
    engine = Engine(config, camera, audio)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        camera.stop()


async def test_a_join_link_on_the_number_screen_fills_in_number_and_host() -> None:
    link = "https://video.example.no/webapp/conference/135790?name=x&callType=video"
    async with engine_with(showing(link)) as engine:
        engine.send(ev.Tap())
        await engine.wait_for(lambda s: s.digits == "135790", 10)
        assert engine.state.host == "video.example.no"
        assert engine.state.phase is Phase.NUMBER


async def test_a_bare_number_joins_the_configured_node() -> None:
    async with engine_with(showing("246801")) as engine:
        engine.send(ev.Tap())
        await engine.wait_for(lambda s: s.digits == "246801", 10)
        assert engine.state.host is None


async def test_a_look_alike_host_is_refused_and_nothing_is_filled_in() -> None:
    link = "https://join.example.no.evil.example/webapp/conference/135790"
    async with engine_with(showing(link)) as engine:
        engine.send(ev.Tap())
        await engine.wait_for(lambda s: s.notice != "", 10)
        assert engine.state.notice == "qr.host_not_allowed"
        assert engine.state.digits == ""


async def test_the_start_screen_does_not_read_codes() -> None:
    async with engine_with(showing("246801")) as engine:
        with contextlib.suppress(TimeoutError):
            await engine.wait_for(lambda s: s.digits != "", 1.0)
        assert engine.state.digits == "" and engine.state.phase is Phase.IDLE


async def test_the_nurse_pin_opens_the_nurse_screen_and_a_wrong_one_does_not() -> None:
    async with engine_with(lambda t: np.zeros((480, 640, 3), np.uint8)) as engine:
        engine.send(ev.StaffGesture(StaffRole.NURSE))
        for digit in "111111":
            engine.send(ev.Digit(digit))
        engine.send(ev.SubmitPin())
        await engine.wait_for(lambda s: s.notice == "pin.wrong", 10)
        await engine.clock.sleep(1.1)  # the first wrong PIN costs a second
        for digit in "246813":
            engine.send(ev.Digit(digit))
        engine.send(ev.SubmitPin())
        await engine.wait_for(lambda s: s.phase is Phase.NURSE, 10)
    assert engine.record.phases == ["idle", "staff_pin", "nurse"]
