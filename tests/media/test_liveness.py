from __future__ import annotations

import asyncio

import pytest

from kiosk.base.clock import ManualClock
from kiosk.media.call import InboundCounters
from kiosk.media.liveness import (
    FrozenPicture,
    Health,
    HealthChange,
    InboundWatch,
    Mend,
    watch_counters,
)


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
    silent = InboundCounters(transport="connected")
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


def _sample(audio_packets: int, gap: float | None, transport: str = "connected") -> InboundCounters:
    return InboundCounters(
        audio_packets=audio_packets,
        video_frames=audio_packets,
        rtp_gap_s=gap,
        transport=transport,
    )


async def test_an_rtp_gap_is_an_outage_long_before_the_window() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=2.0, rtp_gap_s=0.5)
    watch.expect(True)
    n = 0
    for _ in range(10):
        n += 5
        watch.feed(_sample(n, 0.02))
        await clock.advance(0.1)
    # Counters still moved in the last sample, but no packet for 0.6 s: a cut.
    assert watch.feed(_sample(n, 0.4)) is None
    await clock.advance(0.1)
    change = watch.feed(_sample(n, 0.6))
    assert change is not None and change.stalled == ("rtp_gap",)
    assert change.at == pytest.approx(1.1)
    # Packets again, and the gap closed: flowing.
    await clock.advance(0.1)
    back = watch.feed(_sample(n + 5, 0.01))
    assert back is not None and back.health is Health.FLOWING
    assert [c.health for c in watch.history] == [
        Health.IDLE,
        Health.STARTING,
        Health.FLOWING,
        Health.OUTAGE,
        Health.FLOWING,
    ]


async def test_heavy_loss_with_packets_arriving_is_no_outage() -> None:
    """30 % loss: the longest run of lost 20 ms packets over a minute stays short."""
    import random

    rng = random.Random(16)
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=2.0, rtp_gap_s=0.5)
    watch.expect(True)
    n, last_at, t = 0, 0.0, 0.0
    for step in range(3000):  # 60 s of packets every 20 ms
        t = step * 0.02
        if rng.random() >= 0.3:
            n, last_at = n + 1, t
        if step % 5 == 0:
            await clock.advance(t - clock.now())
            watch.feed(_sample(n, t - last_at))
    assert [c.health for c in watch.history] == [Health.IDLE, Health.STARTING, Health.FLOWING]


async def test_a_failed_transport_is_an_outage_at_once() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, rtp_gap_s=0.5)
    watch.expect(True)
    assert watch.feed(_sample(5, 0.0)) == HealthChange(Health.FLOWING, 0.0)
    await clock.advance(0.1)
    assert watch.feed(_sample(10, 0.0)) is None
    await clock.advance(0.1)
    change = watch.feed(_sample(15, 0.0, transport="failed"))
    assert change == HealthChange(Health.OUTAGE, 0.2, ("transport",))


async def test_a_sample_late_after_a_stalled_loop_does_not_judge_the_gap() -> None:
    """The loop that reads packets also takes the samples: after a stall the first sample
    sees a gap the network never had; the packets held meanwhile arrive right after it."""
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=2.0, rtp_gap_s=0.5, on_time_s=0.3)
    watch.expect(True)
    n = 0
    for _ in range(5):
        n += 5
        watch.feed(_sample(n, 0.02))
        await clock.advance(0.1)
    await clock.advance(0.7)  # the loop stalled: no sample, no packet read
    assert watch.feed(_sample(n, 0.8)) is None
    await clock.advance(0.1)
    assert watch.feed(_sample(n + 40, 0.01)) is None  # the held packets were read
    # A real cut: the gap grows on samples that come on time.
    changes = []
    for _ in range(8):
        await clock.advance(0.1)
        changes.append(watch.feed(_sample(n + 40, clock.now() - 1.3)))
    assert [c.stalled for c in changes if c is not None] == [("rtp_gap",)]
    assert [c.health for c in watch.history] == [
        Health.IDLE,
        Health.STARTING,
        Health.FLOWING,
        Health.OUTAGE,
    ]


def test_a_frozen_picture_asks_for_a_keyframe_once_a_second_while_packets_come() -> None:
    """First a keyframe; still frozen after two seconds, the jitter buffer starts afresh too
    (a packet lost for good holds every later picture back). A second of no packets at all
    is an outage, not a frozen picture: the clock starts again when packets come back."""
    frozen = FrozenPicture(after_s=1.0, every_s=1.0, restart_after_s=2.0)
    asks = []
    packets = frames = 0
    for step in range(60):  # 6 s in 0.1 s samples
        now = step * 0.1
        packets += 3
        if step < 10 or step >= 55:
            frames += 1  # decoded for the first second and again from 5.5 s
        if 30 <= step < 40:
            packets -= 3  # nothing at all arrives from 3 s to 4 s: nothing to ask about
        mend = frozen.feed(InboundCounters(video_packets=packets, video_frames=frames), now)
        if mend is not None:
            asks.append((round(now, 1), mend))
    assert asks == [(1.9, Mend.KEYFRAME), (2.9, Mend.RESTART), (5.0, Mend.KEYFRAME)]


async def test_the_start_grace_runs_from_the_connected_transport() -> None:
    clock = ManualClock(start=0.0)
    watch = InboundWatch(clock, window_s=2.0, start_grace_s=2.0, connect_limit_s=10.0)
    watch.expect(True)
    for _ in range(60):  # six seconds of ICE and DTLS on a busy terminal
        assert watch.feed(InboundCounters(transport="connecting")) is None
        await clock.advance(0.1)
    for _ in range(15):
        assert watch.feed(InboundCounters(transport="connected")) is None
        await clock.advance(0.1)
    flowing = watch.feed(InboundCounters(3, 2, 3, 1, 0.0, "connected"))
    assert flowing is not None and flowing.health is Health.FLOWING
    late = InboundWatch(clock, connect_limit_s=10.0)
    late.expect(True)
    changes = []
    for _ in range(110):
        changes.append(late.feed(InboundCounters(transport="connecting")))
        await clock.advance(0.1)
    assert [c.stalled for c in changes if c is not None] == [("transport",)]
