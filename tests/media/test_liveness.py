from __future__ import annotations

import asyncio

import pytest

from kiosk.base.clock import ManualClock
from kiosk.media.call import InboundCounters
from kiosk.media.liveness import Health, HealthChange, InboundWatch, watch_counters


class Feed:
    """Counters that grow while `audio`/`video` are on, like a live call's."""

    def __init__(self) -> None:
        self.audio = True
        self.video = True
        self.counters = InboundCounters()

    def tick(self) -> InboundCounters:
        c = self.counters
        self.counters = InboundCounters(
            audio_packets=c.audio_packets + (5 if self.audio else 0),
            video_packets=c.video_packets + 3,
            audio_frames=c.audio_frames + (5 if self.audio else 0),
            video_frames=c.video_frames + (1 if self.video else 0),
        )
        return self.counters


async def run(clock: ManualClock, watch: InboundWatch, feed: Feed, seconds: float) -> None:
    for _ in range(round(seconds / 0.25)):
        watch.feed(feed.tick())
        await clock.advance(0.25)


def healths(watch: InboundWatch) -> list[tuple[Health, float, tuple[str, ...]]]:
    return [(c.health, c.at, c.stalled) for c in watch.history]


async def test_outage_only_after_the_window_and_recovery() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=2.0)
    feed = Feed()
    assert watch.feed(feed.tick()) is None  # not expecting yet
    watch.expect(True)
    await run(clock, watch, feed, 3.0)
    feed.audio = False
    await clock.advance(0.0)
    outage_from = clock.now()
    # The last packet came at 2.75 s; up to 4.75 s that is within the window.
    await run(clock, watch, feed, 2.0)
    assert watch.health is Health.FLOWING
    await run(clock, watch, feed, 0.5)
    assert watch.history[-1].health is Health.OUTAGE
    feed.audio = True
    await run(clock, watch, feed, 1.0)
    watch.expect(False)
    assert healths(watch) == [
        (Health.IDLE, 0.0, ()),
        (Health.STARTING, 0.0, ()),
        (Health.FLOWING, 0.0, ()),
        (Health.OUTAGE, outage_from + 2.0, ("audio_packets",)),
        (Health.FLOWING, outage_from + 2.5, ()),
        (Health.IDLE, outage_from + 3.5, ()),
    ]


async def test_video_frozen_while_audio_flows_is_an_outage() -> None:
    clock = ManualClock(start=10.0)
    watch = InboundWatch(clock, window_s=1.0)
    feed = Feed()
    watch.expect(True)
    await run(clock, watch, feed, 1.0)
    feed.video = False
    await run(clock, watch, feed, 2.0)
    assert [c.health for c in watch.history] == [
        Health.IDLE,
        Health.STARTING,
        Health.FLOWING,
        Health.OUTAGE,
    ]
    assert watch.history[-1].stalled == ("video_frames",)


async def test_media_that_never_starts_is_an_outage_after_the_grace() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=2.0, start_grace_s=4.0)
    watch.expect(True)
    silent = InboundCounters()
    for _ in range(16):
        assert watch.feed(silent) is None
        await clock.advance(0.25)
    assert watch.feed(silent) is None  # exactly the grace, not beyond
    await clock.advance(0.25)
    change = watch.feed(silent)
    assert change == HealthChange(Health.OUTAGE, 4.25, ("audio_packets", "video_frames"))


async def test_a_new_call_restarts_the_counters() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock)
    feed = Feed()
    watch.expect(True)
    await run(clock, watch, feed, 1.0)
    watch.expect(True)
    feed.counters = InboundCounters()
    await run(clock, watch, feed, 3.0)
    assert [c.health for c in watch.history] == [
        Health.IDLE,
        Health.STARTING,
        Health.FLOWING,
        Health.STARTING,
        Health.FLOWING,
    ]


def test_bad_arguments_are_refused() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match=r"InboundCounters fields \(got \['bytes'\]\)"):
        InboundWatch(clock, watched=("bytes",))
    with pytest.raises(ValueError, match="must be positive"):
        InboundWatch(clock, window_s=0)


async def test_the_driver_reports_changes_on_the_clock() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=1.0)
    feed = Feed()
    seen: list[Health] = []
    watch.expect(True)

    async def sample() -> InboundCounters:
        return feed.tick()

    task = asyncio.create_task(
        watch_counters(sample, watch, lambda c: seen.append(c.health), clock, 0.25)
    )
    await clock.advance(1.0)
    feed.audio = feed.video = False
    await clock.advance(1.5)
    feed.audio = feed.video = True
    await clock.advance(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == [Health.FLOWING, Health.OUTAGE, Health.FLOWING]
