"""What IT sees and does, against a running engine on real parts: Prometheus metrics scraped
over HTTP during a whole consultation carry no personal data, and a reboot asked for during a
call waits until the patient has gone."""

from __future__ import annotations

import asyncio
import re
import tempfile
import urllib.request
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from kiosk.cli.demo import demo_config, demo_node
from kiosk.cli.journey import JourneyPlan, run_journey
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.fleet.ctl import CtlError, CtlServer, ctl_request
from kiosk.fleet.management import Management
from kiosk.fleet.metrics import KioskMetrics
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.support.pulse import PulseServer


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return str(response.read().decode())


async def test_metrics_during_a_consultation_carry_no_personal_data(
    pulse_server: PulseServer,
) -> None:
    metrics = KioskMetrics(CollectorRegistry())
    port = metrics.serve("127.0.0.1", 0)
    scrapes: list[str] = []
    try:
        async with demo_node(admit_after_s=0.3) as demo:
            config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
            async with running_engine(config) as engine:
                management = Management(engine, metrics)

                def sample(state: object) -> None:
                    scrapes.append(scrape(port))

                engine.subscribe(sample)
                await run_journey(engine, JourneyPlan(alias=demo.room.alias, call_seconds=2))
                management.close()
    finally:
        metrics.close()
    everything = "\n".join(scrapes)
    assert 'kiosk_session_phase{phase="in_call"} 1.0' in everything
    assert 'kiosk_session_phase{phase="waiting"} 1.0' in everything
    for secret in (demo.room.alias, demo.room.host_pin, "Pasient", "Klinikar"):
        assert secret not in everything
    series = [line for line in everything.splitlines() if line and not line.startswith("#")]
    labels = " ".join(re.findall(r"\{[^}]*\}", " ".join(series)))
    assert not re.search(r"\d{4,}", labels), "a long number in a metric label"


async def test_reboot_when_idle_waits_for_the_call_to_end(pulse_server: PulseServer) -> None:
    reboots: list[str] = []
    socket_path = Path(tempfile.mkdtemp(prefix="kiosk-ctl-")) / "ctl.sock"
    async with demo_node(admit_after_s=0.2) as demo:
        config = demo_config(demo.base_url, KioskConfig(camera="synthetic"))
        async with running_engine(config) as engine:
            metrics = KioskMetrics(CollectorRegistry())
            management = Management(
                engine, metrics, reboot=lambda: reboots.append(engine.state.phase.value)
            )
            async with CtlServer(socket_path, management):
                engine.send(ev.Tap())
                for digit in demo.room.alias:
                    engine.send(ev.Digit(digit))
                engine.send(ev.SubmitNumber())
                await engine.wait_for(lambda s: s.checks is not None, 15)
                engine.send(ev.Continue())
                await engine.wait_for(lambda s: s.phase is Phase.IN_CALL, 20)
                with pytest.raises(CtlError, match="consultation is in progress"):
                    await ctl_request(socket_path, {"cmd": "reboot", "when_idle": False})
                waiting = asyncio.ensure_future(
                    ctl_request(socket_path, {"cmd": "reboot", "when_idle": True})
                )
                await asyncio.sleep(1.0)
                assert reboots == [] and not waiting.done()
                engine.send(ev.HangUp())
                await engine.wait_for(lambda s: s.phase is Phase.ENDED, 5)
                await asyncio.sleep(0.5)
                assert reboots == []  # the ended screen is still the patient's
                engine.send(ev.Dismiss())
                reply = await asyncio.wait_for(waiting, 15)
            management.close()
    assert reply["ok"] is True
    assert reboots == ["idle"]
