"""Link cuts during a call, side by side with aiortc doing nothing. Kiosk engine in this
namespace, node and practitioner in the fault lab's far namespace (run as root).

`python bench/reconnect.py [--cuts 2,5,15,45] [--trials 10] [--baseline-trials N]`

For each cut length, `--trials` cuts in a running call with the kiosk's policy, then
`--baseline-trials` (default: as many) with the kiosk's outage watch switched off, so that
aiortc is on its own ("doing nothing"), in the same run. Per trial:

    detect_s   the cut -> the kiosk's RECONNECTING phase (the policy only)
    audio_s    the link's return -> the next remote audio frame played
    video_s    the link's return -> the next remote picture taken after the cut, decoded
    frame_s    the link's return -> any remote picture decoded, also one that aiortc held
               back from before the cut (it hands a frame on only when the next one starts):
               shown for comparison, it is not media coming back
    recover_s  the later of the two (None: nothing within 30 s)
    rebuilt    new peer connections the trial cost (0: the call we had came back)

A trial in which media never came back leaves no call to cut again: the next trial knocks
anew. Last line, keys as the reconnect issue names them: `detect_s_p95` (all cut lengths),
`recover_s_p95_by_cut`, `baseline_recover_s_p50_by_cut`, `recovered_fraction`, and per cut
length the medians and p95 of audio and video separately, rebuilds, and the baseline's.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import emit_with_private_audio, median, p95

from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.engine.engine import Engine
from kiosk.session import events as ev
from kiosk.session.state import Phase
from tests.support.far_end import ROOM_ALIAS, FarEnd
from tests.support.netns import NetLab

GIVE_UP_S = 30.0
# Each cut starts from a settled call: longer than aioice's consent interval (4-6 s), so
# that both ends have had a consent check answered since the last cut. With 2 s, a cut
# inherited the previous one's failed checks on the node's side, whose aiortc expired
# consent in the middle of every second 15 s cut, for the kiosk and the baseline alike.
SETTLE_S = 7.0


@dataclass(frozen=True)
class Trial:
    detect_s: float | None
    audio_s: float | None
    video_s: float | None
    frame_s: float | None
    rebuilt: int

    @property
    def recover_s(self) -> float | None:
        if self.audio_s is None or self.video_s is None:
            return None
        return max(self.audio_s, self.video_s)


async def in_call(engine: Engine) -> None:
    await knock(engine, ROOM_ALIAS)
    await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 30)


async def one_cut(engine: Engine, lab: NetLab, cut_s: float) -> Trial:
    await asyncio.sleep(SETTLE_S)
    detected: list[float] = []
    built = engine.live_calls_built()
    cut_at = time.monotonic()
    unsubscribe = engine.subscribe(
        lambda s: (
            detected.append(time.monotonic())
            if s.phase is Phase.RECONNECTING and not detected
            else None
        )
    )
    taken0 = engine.live_video_clock()[1]
    lab.cut()
    await asyncio.sleep(cut_s)
    video0, audio0 = engine.live_media_counts()
    restored_at = time.monotonic()
    lab.restore()
    video_at: float | None = None
    frame_at: float | None = None
    audio_at: float | None = None

    def taken_after_cut() -> bool:
        # A new call's pictures all are; on the call we had, the sender's media clock has
        # moved on by the cut's length (half of it is margin enough against jitter).
        built_now, taken = engine.live_video_clock()
        if taken is None:
            return False
        return built_now != built or taken0 is None or taken >= taken0 + cut_s / 2

    while time.monotonic() - restored_at < GIVE_UP_S and (video_at is None or audio_at is None):
        video, audio = engine.live_media_counts()
        now = time.monotonic()
        if frame_at is None and video > video0:
            frame_at = now
        if video_at is None and video > video0 and taken_after_cut():
            video_at = now
        if audio_at is None and audio > audio0:
            audio_at = now
        await asyncio.sleep(0.01)
    unsubscribe()
    if video_at is not None and audio_at is not None:
        # Back in the call as the patient sees it, not only frames trickling in.
        await engine.wait_for(lambda s: s.phase is Phase.IN_CALL, GIVE_UP_S)
    return Trial(
        detected[0] - cut_at if detected else None,
        None if audio_at is None else audio_at - restored_at,
        None if video_at is None else video_at - restored_at,
        None if frame_at is None else frame_at - restored_at,
        engine.live_calls_built() - built,
    )


@asynccontextmanager
async def call(far: FarEnd, watch_media: bool) -> AsyncIterator[Engine]:
    async with running_engine(far.config(), watch_media=watch_media) as engine:
        await in_call(engine)
        yield engine
        engine.send(ev.HangUp())
        await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)


async def run_trials(
    far: FarEnd, lab: NetLab, trials: int, cut_s: float, watch_media: bool
) -> list[Trial]:
    results: list[Trial] = []
    label = "kiosk" if watch_media else "baseline"
    while len(results) < trials:
        async with call(far, watch_media) as engine:
            while len(results) < trials:
                trial = await one_cut(engine, lab, cut_s)
                results.append(trial)
                print(f"{label} cut {cut_s:g} s #{len(results)}: {trial}", flush=True)
                if trial.recover_s is None:
                    break  # that call is gone; the next trial knocks again
    return results


def _summary(values: list[float | None]) -> dict[str, float | None]:
    got = [v for v in values if v is not None]
    return {
        "p50": median(got) if got else None,
        "p95": p95(got) if got else None,
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cuts = [float(c) for c in args.cuts.split(",")]
    baseline_trials = args.trials if args.baseline_trials is None else args.baseline_trials
    by_cut: dict[str, Any] = {}
    policy_all: list[Trial] = []
    with NetLab() as lab:
        far = FarEnd(lab)
        far.start()
        try:
            for cut_s in cuts:
                policy = await run_trials(far, lab, args.trials, cut_s, watch_media=True)
                baseline = await run_trials(far, lab, baseline_trials, cut_s, watch_media=False)
                policy_all += policy
                by_cut[f"{cut_s:g}"] = {
                    "trials": len(policy),
                    "recovered": sum(t.recover_s is not None for t in policy),
                    "detect_s": _summary([t.detect_s for t in policy]),
                    "audio_s": _summary([t.audio_s for t in policy]),
                    "video_s": _summary([t.video_s for t in policy]),
                    "frame_s": _summary([t.frame_s for t in policy]),
                    "recover_s": _summary([t.recover_s for t in policy]),
                    "rebuilt": sum(t.rebuilt for t in policy),
                    "baseline_trials": len(baseline),
                    "baseline_recovered": sum(t.recover_s is not None for t in baseline),
                    "baseline_audio_s": _summary([t.audio_s for t in baseline]),
                    "baseline_video_s": _summary([t.video_s for t in baseline]),
                    "baseline_frame_s": _summary([t.frame_s for t in baseline]),
                    "baseline_recover_s": _summary([t.recover_s for t in baseline]),
                }
        finally:
            far.stop()
    detects = [t.detect_s for t in policy_all if t.detect_s is not None]
    return {
        "cuts_s": cuts,
        "trials_per_cut": args.trials,
        "detect_s_p95": p95(detects) if detects else None,
        "detected_fraction": round(len(detects) / len(policy_all), 3),
        "recovered_fraction": round(
            sum(t.recover_s is not None for t in policy_all) / len(policy_all), 3
        ),
        "recover_s_p95_by_cut": {k: v["recover_s"]["p95"] for k, v in by_cut.items()},
        "baseline_recover_s_p50_by_cut": {
            k: v["baseline_recover_s"]["p50"] for k, v in by_cut.items()
        },
        "rebuilt_by_cut": {k: v["rebuilt"] for k, v in by_cut.items()},
        "by_cut": by_cut,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cuts", default="2,5,15,45", help="cut lengths in seconds")
    parser.add_argument("--trials", type=int, default=10, help="per cut length")
    parser.add_argument("--baseline-trials", type=int, help="per cut length (default: --trials)")
    emit_with_private_audio(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
