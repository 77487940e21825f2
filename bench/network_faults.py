"""Bad networks during a consultation: loss with delay, a flapping link, a node restart. Kiosk
engine in this namespace, node and practitioner in the fault lab's far namespace (run as root).

`python bench/network_faults.py [--impair-s 20] [--only NAME ...]`

Scenarios, each on a fresh call:

    loss30_delay300   30 % loss and 300 ms one-way delay both ways for --impair-s, then clean
    loss10_delay150   the same with 10 % and 150 ms
    flapping          ten times: the link cut for 1 s, then up for 1 s
    restart_waiting   the node restarts while the patient waits to be let in
    restart_in_call   the node restarts during the call

Figures: played audio (20 ms frames a second, concealed ones included, and the share of the
clean rate measured just before on the same call), decoded video frames a second, calls
rebuilt, the time from a clean link to the quality badge saying "good" again, and the phase
history. Last line: one JSON object with every scenario's figures and `checks`, the targets
of the reconnect issue with whether each held.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import emit_with_private_audio

from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.support.far_end import ROOM_ALIAS, FarEnd
from tests.support.netns import NetLab

CLEAN_S = 8.0
BADGE_WAIT_S = 30.0


def collapse(phases: list[str]) -> list[str]:
    return [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]


class Watch:
    """The phases an engine goes through from now on."""

    def __init__(self, engine: Engine) -> None:
        self.phases = [engine.state.phase.value]
        self._unsubscribe = engine.subscribe(self._note)

    def _note(self, state: Any) -> None:
        if state.phase.value != self.phases[-1]:
            self.phases.append(state.phase.value)

    def stop(self) -> list[str]:
        self._unsubscribe()
        return self.phases


async def rates(engine: Engine, seconds: float) -> tuple[float, float]:
    """Played audio frames and decoded video frames per second over `seconds`."""
    video0, audio0 = engine.live_media_counts()
    start = time.monotonic()
    await asyncio.sleep(seconds)
    video1, audio1 = engine.live_media_counts()
    took = time.monotonic() - start
    return (audio1 - audio0) / took, (video1 - video0) / took


async def in_call(engine: Engine) -> None:
    await knock(engine, ROOM_ALIAS)
    await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 30)
    await asyncio.sleep(2.0)  # past the start, where quality still climbs


async def badge_good_after(engine: Engine) -> float | None:
    start = time.monotonic()
    while time.monotonic() - start < BADGE_WAIT_S:
        if engine.connection_quality() == "good" and engine.state.phase is Phase.IN_CALL:
            return round(time.monotonic() - start, 2)
        await asyncio.sleep(0.1)
    return None


async def hang_up(engine: Engine) -> None:
    engine.send(ev.HangUp())
    await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)


async def loss(
    far: FarEnd, lab: NetLab, loss_pct: float, delay_ms: float, impair_s: float
) -> dict[str, Any]:
    async with running_engine(far.config()) as engine:
        await in_call(engine)
        clean_audio, clean_video = await rates(engine, CLEAN_S)
        watch = Watch(engine)
        built = engine.live_calls_built()
        lab.impair(loss_pct=loss_pct, delay_ms=delay_ms)
        await asyncio.sleep(2.0)  # the first packets through the delay
        audio, video = await rates(engine, impair_s - 2.0)
        rebuilt_during = engine.live_calls_built() - built
        badge_during = engine.connection_quality()
        lab.clear()
        good_after = await badge_good_after(engine)
        await asyncio.sleep(5.0)
        rebuilt_after = engine.live_calls_built() - built - rebuilt_during
        phases = watch.stop()
        await hang_up(engine)
    return {
        "clean_audio_fps": round(clean_audio, 1),
        "clean_video_fps": round(clean_video, 1),
        "audio_fps": round(audio, 1),
        "audio_share": round(audio / clean_audio, 3) if clean_audio else None,
        "video_fps": round(video, 1),
        "rebuilt_during": rebuilt_during,
        "rebuilt_after": rebuilt_after,
        "badge_during": badge_during,
        "badge_good_after_clean_s": good_after,
        "phases": collapse(phases),
    }


async def flapping(far: FarEnd, lab: NetLab) -> dict[str, Any]:
    async with running_engine(far.config()) as engine:
        await in_call(engine)
        watch = Watch(engine)
        built = engine.live_calls_built()
        for _ in range(10):
            lab.cut()
            await asyncio.sleep(1.0)
            lab.restore()
            await asyncio.sleep(1.0)
        start = time.monotonic()
        await engine.wait_for(lambda s: s.phase is Phase.IN_CALL, 60)
        video0, audio0 = engine.live_media_counts()
        while engine.live_media_counts()[0] <= video0 or engine.live_media_counts()[1] <= audio0:
            await asyncio.sleep(0.02)
        back = time.monotonic() - start
        rebuilt = engine.live_calls_built() - built
        phases = watch.stop()
        await hang_up(engine)
    return {
        "rebuilt": rebuilt,
        "media_after_last_flap_s": round(back, 3),
        "phases": collapse(phases),
    }


async def restart(far: FarEnd, while_waiting: bool) -> dict[str, Any]:
    async with running_engine(far.config()) as engine:
        await knock(engine, ROOM_ALIAS)
        if while_waiting:
            await engine.wait_for(lambda s: s.phase is Phase.WAITING, 30)
        else:
            await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 30)
        watch = Watch(engine)
        started = time.monotonic()
        far.restart()
        restarted = time.monotonic() - started
        target = Phase.WAITING if while_waiting else Phase.IN_CALL
        # Out of the phase and back into it (or straight on, if the kiosk never noticed).
        await engine.wait_for(lambda s: len(watch.phases) > 1 or s.phase is not target, 30)
        await engine.wait_for(lambda s: s.phase is target and (while_waiting or s.remote_media), 60)
        back = time.monotonic() - started
        phases = watch.stop()
        await hang_up(engine)
    return {
        "node_down_s": round(restarted, 3),
        "back_s": round(back, 3),
        "phases": collapse(phases),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    wanted = set(args.only or [])

    def chosen(name: str) -> bool:
        return not wanted or name in wanted

    with NetLab() as lab:
        far = FarEnd(lab)
        waiting_far = FarEnd(lab, admit_after_s=3600.0)
        waiting_far.share_certificate(far)
        far.start()
        try:
            if chosen("loss30_delay300"):
                results["loss30_delay300"] = await loss(far, lab, 30.0, 300.0, args.impair_s)
            if chosen("loss10_delay150"):
                results["loss10_delay150"] = await loss(far, lab, 10.0, 150.0, args.impair_s)
            if chosen("flapping"):
                results["flapping"] = await flapping(far, lab)
            if chosen("restart_in_call"):
                results["restart_in_call"] = await restart(far, while_waiting=False)
        finally:
            far.stop()
        if chosen("restart_waiting"):
            waiting_far.start()
            try:
                results["restart_waiting"] = await restart(waiting_far, while_waiting=True)
            finally:
                waiting_far.stop()
        for name, figures in results.items():
            print(name, figures, flush=True)
    checks: dict[str, bool] = {}
    if "loss30_delay300" in results:
        r = results["loss30_delay300"]
        checks["loss30_no_rebuild"] = r["rebuilt_during"] == 0 and r["rebuilt_after"] == 0
        checks["loss30_audio_at_least_half"] = (r["audio_share"] or 0) >= 0.5
        checks["loss30_badge_good_within_5s"] = (r["badge_good_after_clean_s"] or 99) <= 5.0
    if "loss10_delay150" in results:
        r = results["loss10_delay150"]
        checks["loss10_audio_at_least_90pct"] = (r["audio_share"] or 0) >= 0.9
        checks["loss10_badge_good_within_5s"] = (r["badge_good_after_clean_s"] or 99) <= 5.0
    if "flapping" in results:
        r = results["flapping"]
        checks["flapping_ends_in_call_with_one_rebuild_at_most"] = (
            r["rebuilt"] <= 1 and r["phases"][-1] == "in_call"
        )
    return {**results, "checks": checks, "all_ok": all(checks.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--impair-s", type=float, default=20.0)
    parser.add_argument("--only", nargs="*", help="scenario names")
    emit_with_private_audio(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
