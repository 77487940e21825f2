"""Link cuts during a call: how fast the kiosk notices, and how fast media is back after
the link returns. Kiosk engine in this namespace, node and practitioner in the fault lab's far
namespace (run as root).

`python bench/reconnect.py [--trials 20] [--cut-s 5] [--baseline-trials 3]`

A trial is one cut of `--cut-s` seconds in a running call. Detection is the time from the cut
to the kiosk's RECONNECTING phase. A trial has recovered when, after the link returned, a new
remote video frame was decoded and new remote audio was played; the recovery time runs from
the link's return to the later of the two. The baseline repeats the cut with the kiosk's own
outage watch switched off (aiortc on its own), measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import emit, median, p95

from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.support.far_end import ROOM_ALIAS, FarEnd
from tests.support.netns import NetLab
from tests.support.pulse import start_pulse

GIVE_UP_S = 30.0
SETTLE_S = 2.0


async def join(engine: Engine) -> None:
    await knock(engine, ROOM_ALIAS)
    await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 30)


async def one_cut(engine: Engine, lab: NetLab, cut_s: float) -> tuple[float | None, float | None]:
    """Returns (detect_s, recover_s); None where it did not happen."""
    await asyncio.sleep(SETTLE_S)
    detected: list[float] = []
    cut_at = time.monotonic()
    unsubscribe = engine.subscribe(
        lambda s: (
            detected.append(time.monotonic())
            if s.phase is Phase.RECONNECTING and not detected
            else None
        )
    )
    lab.cut()
    await asyncio.sleep(cut_s)
    video0, audio0 = engine.live_media_counts()
    restored_at = time.monotonic()
    lab.restore()
    video_at: float | None = None
    audio_at: float | None = None
    while time.monotonic() - restored_at < GIVE_UP_S and (video_at is None or audio_at is None):
        video, audio = engine.live_media_counts()
        now = time.monotonic()
        if video_at is None and video > video0:
            video_at = now
        if audio_at is None and audio > audio0:
            audio_at = now
        await asyncio.sleep(0.02)
    unsubscribe()
    detect = detected[0] - cut_at if detected else None
    if video_at is None or audio_at is None:
        return detect, None
    # Back in the call as the patient sees it, not only frames trickling in.
    await engine.wait_for(lambda s: s.phase is Phase.IN_CALL, GIVE_UP_S)
    return detect, max(video_at, audio_at) - restored_at


async def run_trials(
    far: FarEnd, lab: NetLab, trials: int, cut_s: float, watch_media: bool
) -> list[tuple[float | None, float | None]]:
    results = []
    async with running_engine(far.config(), watch_media=watch_media) as engine:
        await join(engine)
        for number in range(trials):
            result = await one_cut(engine, lab, cut_s)
            print(f"trial {number + 1}: detect {result[0]} recover {result[1]}", flush=True)
            results.append(result)
            if result[1] is None:
                break  # the call is gone; later trials would measure nothing
        engine.send(ev.HangUp())
        await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)
    return results


async def main_async(args: argparse.Namespace) -> dict[str, object]:
    with NetLab() as lab:
        far = FarEnd(lab)
        far.start()
        try:
            policy = await run_trials(far, lab, args.trials, args.cut_s, watch_media=True)
            baseline = await run_trials(
                far, lab, args.baseline_trials, args.cut_s, watch_media=False
            )
        finally:
            far.stop()
    detects = [d for d, _ in policy if d is not None]
    recovers = [r for _, r in policy if r is not None]
    base = [r for _, r in baseline if r is not None]
    return {
        "trials": args.trials,
        "cut_s": args.cut_s,
        "recovered": len(recovers),
        "detect_s_p50": median(detects) if detects else None,
        "detect_s_p95": p95(detects) if detects else None,
        "recover_after_restore_s_p50": median(recovers) if recovers else None,
        "recover_after_restore_s_p95": p95(recovers) if recovers else None,
        "baseline_trials": args.baseline_trials,
        "baseline_recovered": len(base),
        "baseline_recover_s_p50": median(base) if base else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--cut-s", type=float, default=5.0)
    parser.add_argument("--baseline-trials", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pulse = start_pulse()
    try:
        emit(asyncio.run(main_async(args)))
    finally:
        pulse.stop()


if __name__ == "__main__":
    main()
