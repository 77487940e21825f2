"""Runs the device checks for the session and turns their reports into `CheckSummary`s.

`live_checks` yields a summary every half second while the check screen is up; the one-shot
`run_quick_checks` returns the first summary in which every check has an answer (or only the
patient's voice is still awaited).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator

from kiosk.checks.live import DeviceChecks, first_decided
from kiosk.checks.network import NodeRefused, StatusProbe
from kiosk.checks.turn import TurnTarget, TurnUrlError, parse_turn_url
from kiosk.checks.verdict import CheckReport
from kiosk.config import KioskConfig
from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.pexip.client import InfinityClient
from kiosk.pexip.errors import HostNotAllowed
from kiosk.session.state import CheckLine, CheckStatus, CheckSummary

log = logging.getLogger(__name__)

QUICK_LIMIT_S = 10.0


def summary_of(report: CheckReport, *, synthetic: bool) -> CheckSummary:
    """What the checks found. The patient's own "I heard it" is the session's to apply."""
    lines = [CheckLine(r.name, r.status, r.advice, r.detail) for r in report.results]
    by_name = {line.name: line.status for line in lines}
    usable = (CheckStatus.PASS, CheckStatus.WARN)
    return CheckSummary(
        camera_ok=by_name.get("camera") in usable,
        microphone_ok=by_name.get("microphone") is not CheckStatus.FAIL,
        speaker_ok=by_name.get("speaker") is CheckStatus.PASS,
        camera_synthetic=synthetic,
        microphone_unheard=by_name.get("microphone") is CheckStatus.FAIL,
        lines=tuple(lines),
        complete=all(line.status is not CheckStatus.RUNNING for line in lines),
    )


def turn_targets(config: KioskConfig) -> tuple[TurnTarget, ...]:
    targets = []
    for server in config.turn_servers:
        try:
            targets.append(parse_turn_url(server.url))
        except TurnUrlError as exc:
            log.warning("TURN server left out of the network check: %s", exc)
    return tuple(targets)


@contextlib.asynccontextmanager
async def node_probe(config: KioskConfig) -> AsyncIterator[StatusProbe]:
    """One status fetch per call, no retries (the check counts the failures itself)."""
    try:
        client = InfinityClient(config.node_url, config.allowed_hosts, retries=0)
    except HostNotAllowed:

        async def refused() -> None:
            raise NodeRefused("the node's host is not on the allow-list")

        yield refused
        return
    try:
        yield client.status
    finally:
        await client.close()


async def live_checks(
    camera: CameraHub,
    audio: AudioIO,
    config: KioskConfig | None = None,
    *,
    interval_s: float = 0.5,
) -> AsyncGenerator[CheckSummary, None]:
    """Summaries until the caller stops iterating. Without `config` there is no network line."""
    async with contextlib.AsyncExitStack() as stack:
        probe = None if config is None else await stack.enter_async_context(node_probe(config))
        turn = () if config is None else turn_targets(config)
        checks = DeviceChecks(camera, audio, probe, turn)
        reports = checks.reports(interval_s)
        stack.push_async_callback(reports.aclose)
        async for report in reports:
            yield summary_of(report, synthetic=camera.synthetic)


async def run_quick_checks(
    camera: CameraHub, audio: AudioIO, config: KioskConfig | None = None
) -> CheckSummary:
    """The first summary in which every check answered (or only waits for the patient's voice),
    or the newest one after `QUICK_LIMIT_S`."""
    async with contextlib.AsyncExitStack() as stack:
        probe = None if config is None else await stack.enter_async_context(node_probe(config))
        turn = () if config is None else turn_targets(config)
        checks = DeviceChecks(camera, audio, probe, turn)
        reports = checks.reports(0.1)
        stack.push_async_callback(reports.aclose)
        async for report in reports:
            if first_decided(report) or report.elapsed_s >= QUICK_LIMIT_S:
                return summary_of(report, synthetic=camera.synthetic)
    raise AssertionError("the check reports ended without being stopped")
