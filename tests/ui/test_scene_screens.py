"""The check screen and the ID-card guide as the patient sees them, on the real engine with
camera pictures of known scenes: the analysers judge the picture for real, and each screen is
saved to artifacts/screenshots/nb/ (checks_good, checks_dark, checks_backlit, card_none,
card_too_far, card_glare, card_good)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kiosk.cli.demo import demo_config, demo_node
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.engine.engine import Engine
from scenes.cards import expected_hint
from scenes.render import CardSpec, SceneSpec, render_scene
from tests.support.pulse import PulseServer
from tests.ui.shots import Shots

# The kiosk's own camera size: what the terminal really analyses and sends.
SIZE = (640, 480)


class Scenery:
    """What the synthetic camera shows; a test changes it while the kiosk runs. Each frame
    gets fresh sensor noise, as from a real camera (a repeated buffer reads as frozen)."""

    def __init__(self, spec: SceneSpec) -> None:
        self._rng = np.random.default_rng(5)
        self.show(spec)

    def show(self, spec: SceneSpec) -> None:
        self.frame = render_scene(spec, size=SIZE).astype(np.int16)

    def render(self, t: float) -> npt.NDArray[np.uint8]:
        noise = self._rng.integers(-3, 4, size=self.frame.shape, dtype=np.int16)
        frame: npt.NDArray[np.uint8] = np.clip(self.frame + noise, 0, 255).astype(np.uint8)
        return frame


@asynccontextmanager
async def engine_showing(scenery: Scenery, config: KioskConfig) -> AsyncIterator[Engine]:
    camera = CameraHub(SyntheticCamera(*SIZE, 15, render=scenery.render), synthetic=False)
    audio = AudioIO()
    camera.start()
    audio.start()
    engine = Engine(config, camera, audio)
    await engine.start()
    try:
        yield engine
    finally:
        await engine.stop()
        camera.stop()
        audio.stop()


def card_hint(engine: Engine) -> str:
    status = engine.card_status()
    return status.hint if status is not None else ""


def light_advice(engine: Engine) -> str:
    checks = engine.state.checks
    lines = {line.name: line.advice for line in checks.lines} if checks else {}
    return lines.get("light", "")


LIGHTS: list[tuple[SceneSpec, str, str]] = [
    (SceneSpec(), "light.ok", "checks_good"),
    (SceneSpec(brightness=0.22), "light.too_dark", "checks_dark"),
    (SceneSpec(backlight=True), "light.backlit", "checks_backlit"),
]


async def test_check_screen_for_a_good_a_dark_and_a_backlit_scene(
    kivy_display: str, pulse_server: PulseServer, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    scenery = Scenery(SceneSpec())
    seen: list[str] = []
    async with demo_node(admit_after_s=600) as demo:
        config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
        async with engine_showing(scenery, config) as engine, run_app(engine) as pilot:
            shots = Shots(pilot, screenshots_dir / "nb")
            await pilot.tap("start")
            await pilot.wait_for_screen("number")
            for digit in demo.room.alias:
                await pilot.tap(f"key_{digit}")
            await pilot.tap("submit")
            await pilot.wait_for_screen("checks")
            for spec, advice, name in LIGHTS:
                scenery.show(spec)
                await pilot.wait_for(
                    lambda advice=advice: light_advice(engine) == advice,  # type: ignore[misc]
                    timeout=20,
                    what=f"the light check to say {advice}",
                    explain=lambda: f"checks: {engine.state.checks}",
                )
                seen.append(light_advice(engine))
                await pilot.frames(3)
                await shots.take(name)
    assert seen == ["light.ok", "light.too_dark", "light.backlit"]


CARDS: list[tuple[SceneSpec, str, str]] = [
    (SceneSpec(), "card.none", "card_none"),
    (SceneSpec(faces=(), card=CardSpec(width=0.24)), "card.closer", "card_too_far"),
    (SceneSpec(faces=(), card=CardSpec(width=0.55, glare=0.18)), "card.glare", "card_glare"),
    (SceneSpec(faces=(), card=CardSpec(width=0.55)), "card.good", "card_good"),
]


async def test_id_card_guide_in_the_call_for_no_card_too_far_glare_and_good(
    kivy_display: str, pulse_server: PulseServer, screenshots_dir: Path
) -> None:
    from kiosk.ui.testing import run_app

    for spec, hint, _ in CARDS:
        wanted = "card.ok" if hint == "card.good" else hint
        assert expected_hint(spec, SIZE) == wanted, "the scene itself must call for the hint"
    scenery = Scenery(SceneSpec())
    async with demo_node(admit_after_s=0.3) as demo:
        config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
        async with engine_showing(scenery, config) as engine, run_app(engine) as pilot:
            shots = Shots(pilot, screenshots_dir / "nb")
            await pilot.tap("start")
            for digit in demo.room.alias:
                await pilot.tap(f"key_{digit}")
            await pilot.tap("submit")
            await pilot.wait_for_screen("checks")
            await pilot.tap("continue")
            await pilot.wait_for_screen("in_call", timeout=30)
            await pilot.tap("show_id")
            hints: list[str] = []
            for spec, hint, name in CARDS:
                scenery.show(spec)
                await pilot.wait_for(
                    lambda hint=hint: card_hint(engine) == hint,  # type: ignore[misc]
                    timeout=15,
                    what=f"the guide to say {hint}",
                )
                hints.append(card_hint(engine))
                # On a loaded machine the call may be rebuilding; the picture is of the call.
                await pilot.wait_for(
                    lambda: engine.state.phase.value == "in_call",
                    timeout=20,
                    what="the call",
                    explain=lambda: f"phases: {engine.record.phases[-8:]}",
                )
                await pilot.frames(3)
                await shots.take(name)
    assert hints == ["card.none", "card.closer", "card.glare", "card.good"]
