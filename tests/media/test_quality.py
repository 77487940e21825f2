"""The quality decision on both sides of every threshold, and the controller on a real track."""

from __future__ import annotations

import dataclasses

import av
import pytest

from kiosk.base.clock import ManualClock
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.media.call import OutboundVideo
from kiosk.media.quality import (
    LEVELS,
    SHARP,
    LinkBadge,
    QualityController,
    QualityPolicy,
    QualitySample,
    QualityState,
    decide,
    keep_up,
)
from kiosk.media.tracks import CameraVideoTrack, SendFormat

POLICY = QualityPolicy()
STEP_S = 0.5


class Feed:
    """Drives `decide` with samples every STEP_S seconds and keeps every state."""

    def __init__(self, rung: int = 0, since_change: float = 0.0) -> None:
        self.state = QualityState(rung=rung, changed_at=0.0)
        self.now = since_change
        self.times: list[float] = []
        self.frames = 1  # the encoder has asked for its first frame
        self.packets = 0
        self.rungs: list[int] = []
        self._tick(0.0, 0.0, 1.0, sent=True, first=True)

    def _tick(self, loss: float, rtt: float, keep: float, sent: bool, first: bool = False) -> None:
        if not first:
            # What happened over the interval that ends with this sample.
            self.now += STEP_S
            self.frames += round(keep * self.state.level.send.fps * STEP_S)
            self.packets += 20 if sent else 0
        sample = QualitySample(self.now, self.frames, self.packets, rtt, loss)
        self.state = decide(self.state, sample, POLICY)
        self.rungs.append(self.state.rung)
        self.times.append(self.now)

    def changes(self) -> list[tuple[float, int]]:
        return [
            (t, r)
            for i, (t, r) in enumerate(zip(self.times, self.rungs, strict=True))
            if i and r != self.rungs[i - 1]
        ]

    def run(
        self,
        seconds: float,
        *,
        loss: float = 0.0,
        rtt: float = 0.05,
        keep: float = 1.0,
        sent: bool = True,
    ) -> list[int]:
        start = len(self.rungs)
        for _ in range(round(seconds / STEP_S)):
            self._tick(loss, rtt, keep, sent)
        return self.rungs[start:]


def test_levels_are_the_ladder() -> None:
    assert [(lv.label, lv.name, lv.audio_first) for lv in LEVELS] == [
        ("640x480@15", "good", False),
        ("480x360@15", "fair", False),
        ("320x240@12", "poor", False),
        ("320x240@8", "poor", True),
    ]


@pytest.mark.parametrize(
    ("loss", "rtt", "expected"),
    [
        (POLICY.bad_loss, 0.05, [0, 0, 0, 0]),  # at the threshold: hold
        (POLICY.bad_loss + 0.001, 0.05, [1, 1, 1, 1]),  # just above: down at once
        (0.0, POLICY.bad_rtt_s, [0, 0, 0, 0]),
        (0.0, POLICY.bad_rtt_s + 0.001, [1, 1, 1, 1]),
        (POLICY.severe_loss, 0.05, [1, 1, 1, 1]),  # severe only above: one rung
        (POLICY.severe_loss + 0.001, 0.05, [2, 2, 2, 2]),  # above: skip one
        (0.0, POLICY.severe_rtt_s, [1, 1, 1, 1]),
        (0.0, POLICY.severe_rtt_s + 0.001, [2, 2, 2, 2]),
    ],
)
def test_network_thresholds_step_down_at_once(loss: float, rtt: float, expected: list[int]) -> None:
    feed = Feed(since_change=POLICY.down_hold_s)
    assert feed.run(2.0, loss=loss, rtt=rtt) == expected


@pytest.mark.parametrize(("keep", "down"), [(0.8, False), (0.7, True)])
def test_encoder_falling_behind_steps_down(keep: float, down: bool) -> None:
    assert POLICY.min_keep_up == 0.75
    feed = Feed(since_change=POLICY.down_hold_s)
    assert feed.run(1.0, keep=keep) == ([1, 1] if down else [0, 0])


def test_down_steps_wait_for_the_last_change_to_show() -> None:
    feed = Feed(since_change=POLICY.down_hold_s)
    rungs = feed.run(9.0, loss=0.08)
    # One rung every down_hold_s (4 samples), then the floor holds.
    assert rungs == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]
    assert feed.state.level.audio_first
    assert feed.state.reason.startswith("loss 8%")


def test_steps_up_one_rung_per_good_spell_and_no_sooner() -> None:
    feed = Feed(rung=3)
    feed.run(3 * POLICY.up_after_s + 1.0, loss=POLICY.good_loss - 0.001, rtt=0.24)
    # The spell starts at the first good sample (0.5 s); each rung takes a whole spell.
    assert feed.changes() == [(8.5, 2), (16.5, 1), (24.5, 0)]
    assert feed.state.reason == "recovered"


@pytest.mark.parametrize(
    ("loss", "rtt"),
    [(POLICY.good_loss, 0.05), (0.0, POLICY.good_rtt_s), (0.04, 0.05), (0.0, 0.3)],
)
def test_the_band_between_good_and_bad_holds(loss: float, rtt: float) -> None:
    feed = Feed(rung=2)
    assert feed.run(3 * POLICY.up_after_s, loss=loss, rtt=rtt) == [2] * 48
    assert feed.state.good_since is None


def test_a_bad_sample_restarts_the_good_spell() -> None:
    feed = Feed(rung=1)
    rungs = feed.run(POLICY.up_after_s - 1.0)
    rungs += feed.run(STEP_S, loss=0.04)  # in the band: not good
    rungs += feed.run(POLICY.up_after_s)  # the new spell starts with its first sample
    assert set(rungs) == {1}
    assert feed.run(STEP_S) == [0]


def test_nothing_sent_is_no_evidence_either_way() -> None:
    feed = Feed(rung=1, since_change=POLICY.down_hold_s)
    # Stale reports of heavy loss while nothing goes out (a cut): no change, no good spell.
    assert feed.run(POLICY.up_after_s + 1, loss=0.5, sent=False) == [1] * 18
    assert feed.state.good_since is None


def test_keep_up_ratio() -> None:
    a = QualitySample(10.0, 100, 0)
    assert keep_up(a, dataclasses.replace(a, at=12.0, frames_sent=130), 15.0) == 1.0
    assert keep_up(a, dataclasses.replace(a, at=12.0, frames_sent=115), 15.0) == 0.5
    assert keep_up(a, a, 15.0) is None
    # The call's set-up, before the encoder asked for its first frame, is not falling behind.
    start = QualitySample(10.0, 0, 0)
    assert keep_up(start, dataclasses.replace(start, at=12.0, frames_sent=5), 15.0) is None


def test_a_slow_call_set_up_does_not_step_down() -> None:
    state = decide(QualityState(), QualitySample(0.0, 0, 0), POLICY)
    # DTLS took 1.8 s: only 3 frames in the first 2 s, then the encoder keeps up.
    state = decide(state, QualitySample(2.0, 3, 4, 0.02, 0.0, 1, 15.0), POLICY)
    state = decide(state, QualitySample(2.5, 10, 12, 0.02, 0.0, 2, 15.0), POLICY)
    assert (state.rung, state.sharp) == (0, False)


def test_policy_refuses_thresholds_without_hysteresis() -> None:
    with pytest.raises(ValueError, match="good_loss < bad_loss"):
        QualityPolicy(good_loss=0.05, bad_loss=0.05)
    with pytest.raises(ValueError, match="good_rtt_s < bad_rtt_s"):
        QualityPolicy(good_rtt_s=0.5, bad_rtt_s=0.4)


async def test_controller_sets_the_track_and_records_changes() -> None:
    hub = CameraHub(SyntheticCamera(640, 480, fps=30.0), synthetic=True)
    hub.start()
    track = CameraVideoTrack(hub)
    clock = ManualClock()
    reports = [OutboundVideo(0, None, None)]
    seen: list[str] = []
    controller = QualityController(
        lambda: _value(reports[-1]),
        track,
        clock=clock,
        on_change=lambda change: seen.append(change.level.label),
    )
    sizes: list[tuple[int, int]] = []
    try:
        await hub_ready(hub)
        for packets, loss in [(10, 0.0), (20, 0.1), (30, 0.1)]:
            clock._now += 2.5
            reports.append(OutboundVideo(packets, 0.05, loss))
            track.frames_sent += round(15 * 2.5)
            await controller.step()
            frame = await track.recv()
            assert isinstance(frame, av.VideoFrame)
            sizes.append((frame.width, frame.height))
    finally:
        track.stop()
        hub.stop()
    assert [c.level.label for c in controller.history] == ["640x480@15", "480x360@15", "320x240@12"]
    assert seen == ["480x360@15", "320x240@12"]
    assert sizes == [(640, 480), (480, 360), (320, 240)]
    assert controller.level.name == "poor"
    assert track.send_format == SendFormat(320, 240, 12)


async def _value(video: OutboundVideo) -> OutboundVideo:
    return video


async def hub_ready(hub: CameraHub) -> None:
    import asyncio

    for _ in range(200):
        if hub.latest() is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("expected a camera frame within 2 s")


def test_a_stale_report_is_judged_once_and_does_not_hold_back_the_way_up() -> None:
    """A bad receiver report that is not followed by a new one must not keep counting: the
    stats repeat its figures until the next report comes."""
    state = QualityState(rung=1, changed_at=0.0)
    packets, history = 0, []
    # A fair report each second, then a bad one at 10 s that stays in the stats (no new
    # report after it).
    reports = 0
    for step in range(1, 25):
        at = step * STEP_S
        packets += 20
        if step % 2 == 0 and step <= 20:
            reports += 1
        bad_figures = step >= 20
        sample = QualitySample(
            at,
            round(at * 15),
            packets,
            0.5 if bad_figures else 0.3,
            0.0,
            reports,
        )
        state = decide(state, sample, POLICY)
        history.append(state.rung)
    # The bad report at 10 s stepped down once (the hold had passed), and its repeats in the
    # following samples did not step down again.
    assert history[18] == 1 and history[19] == 2
    assert set(history[19:]) == {2}
    assert state.good_since is None  # the bad report ended the good spell ...
    # ... but the samples that only repeat it are not new evidence either way.
    fresh_good = dataclasses.replace(
        sample,
        at=sample.at + STEP_S,
        reports=reports + 1,
        round_trip_s=0.05,
        packets_sent=packets + 20,
        frames_sent=sample.frames_sent + 8,
    )
    assert decide(state, fresh_good, POLICY).good_since == fresh_good.at


def test_repeated_good_figures_without_new_reports_keep_the_spell() -> None:
    state = QualityState(rung=1, changed_at=0.0)
    packets = 0
    rungs = []
    for step in range(1, 30):
        packets += 20
        # A report only every fourth sample, as RTCP comes about once a second.
        sample = QualitySample(
            step * STEP_S, round(step * STEP_S * 15), packets, 0.05, 0.0, step // 4
        )
        state = decide(state, sample, POLICY)
        rungs.append(state.rung)
    assert rungs[-1] == 0
    up_at = (rungs.index(0) + 1) * STEP_S
    assert POLICY.up_after_s <= up_at <= POLICY.up_after_s + 4 * STEP_S


def test_the_badge_judges_fresh_reports_only_and_is_good_again_after_two_clean_ones() -> None:
    badge = LinkBadge(POLICY)
    seen = [badge.name]
    reports = [
        # (reports so far, loss, round trip): a bad spell, repeats of its last report while
        # none come, then a clean link.
        (1, 0.0, 0.05),
        (2, 0.30, 0.65),
        (2, 0.30, 0.65),
        (2, 0.30, 0.65),
        (3, 0.08, 0.2),
        (4, 0.0, 0.05),
        (4, 0.0, 0.05),
        (5, 0.0, 0.05),
        (5, 0.0, 0.05),
    ]
    for step, (count, loss, rtt) in enumerate(reports):
        seen.append(badge.feed(OutboundVideo(100 * count, rtt, loss, count), step * STEP_S))
    assert seen == ["good", "good", "poor", "poor", "poor", "fair", "fair", "fair", "good", "good"]


def test_the_first_report_after_a_silence_counts_an_outage_that_is_over() -> None:
    """A cut: no reports for 5 s, then one that says 96 % of the packets sent meanwhile were
    lost. Neither the picture nor the badge steps down for it; a bad report after it, on a
    link that really is bad, counts as always."""
    badge = LinkBadge(POLICY)
    state = QualityState(rung=0, changed_at=0.0)
    # (time, reports so far, loss)
    timeline = [(0.0, 1, 0.0), (1.0, 2, 0.0), (2.0, 3, 0.0)]
    timeline += [(2.0 + t, 3, 0.0) for t in (1.0, 2.0, 3.0, 4.0, 5.0)]  # the cut
    timeline += [(7.5, 4, 0.96), (8.5, 5, 0.0), (9.5, 6, 0.0)]  # back, clean
    timeline += [(10.5, 7, 0.30), (11.5, 8, 0.30)]  # then really lossy
    rungs, badges = [], []
    for at, reports, loss in timeline:
        packets = round(at * 40)
        sample = QualitySample(at, round(at * 15) + 1, packets, 0.05, loss, reports)
        state = decide(state, sample, POLICY)
        rungs.append(state.rung)
        badges.append(badge.feed(OutboundVideo(packets, 0.05, loss, reports), at))
    assert rungs == [0] * 11 + [2, 2]
    assert badges == ["good"] * 11 + ["poor", "poor"]


def test_reports_every_five_seconds_are_not_taken_for_silences() -> None:
    """RFC 3550 lets a far end report only every 5 s: the spacing is learnt, so after the
    first such gap every report counts again (here, loss that steps the picture down)."""
    badge = LinkBadge(POLICY)
    state = QualityState(rung=0, changed_at=0.0)
    rungs, badges = [], []
    for n in range(1, 7):
        at = n * 5.0
        packets = round(at * 40)
        loss = 0.0 if n < 3 else 0.08
        sample = QualitySample(at, round(at * 15) + 1, packets, 0.05, loss, n)
        state = decide(state, sample, POLICY)
        rungs.append(state.rung)
        badges.append(badge.feed(OutboundVideo(packets, 0.05, loss, n), at))
    assert rungs == [0, 0, 0, 1, 2, 3]  # the first sample sets the baseline
    assert badges == ["good", "good", "fair", "fair", "fair", "fair"]


def _sharp_feed(keep: float, policy: QualityPolicy = POLICY) -> tuple[QualityState, list[bool]]:
    state = QualityState(rung=0, changed_at=0.0)
    frames = packets = 0
    sharps = []
    for step in range(1, 60):
        fps = state.send(policy).fps
        frames += round(keep * fps * STEP_S)
        packets += 20
        state = decide(state, QualitySample(step * STEP_S, frames, packets, 0.05, 0.0), policy)
        sharps.append(state.sharp)
    return state, sharps


def test_the_sharp_picture_only_where_the_encoder_keeps_up_with_room() -> None:
    state, sharps = _sharp_feed(keep=1.0)
    assert state.sharp and state.send(POLICY) == SHARP
    # The first sample only sets the baseline; the good spell runs from the second.
    assert (sharps.index(True) + 1) * STEP_S == STEP_S * 2 + POLICY.up_after_s
    state, sharps = _sharp_feed(keep=0.9)  # keeps up, but without room: not tried
    assert not any(sharps)
    no_camera_for_it = dataclasses.replace(POLICY, sharp=None)
    assert not any(_sharp_feed(keep=1.0, policy=no_camera_for_it)[1])


def test_an_encoder_that_falls_behind_on_the_sharp_picture_is_not_asked_again_soon() -> None:
    state = QualityState(rung=0, changed_at=0.0, sharp=True)
    previous = QualitySample(0.0, 1, 0, 0.05, 0.0)
    state = decide(state, previous, POLICY)
    behind = QualitySample(1.0, 16, 20, 0.05, 0.0)  # 15 frames of 30 due
    state = decide(state, behind, POLICY)
    assert not state.sharp and state.rung == 0 and state.sharp_refused_at == 1.0
    assert "keep-up 0.50" in state.reason
    # A long clean spell afterwards at the top rung: still no sharp picture until the retry.
    frames, packets, at = 15, 20, 1.0
    while at < POLICY.sharp_retry_s - 1:
        at += STEP_S
        frames += round(15 * STEP_S)
        packets += 20
        state = decide(state, QualitySample(at, frames, packets, 0.05, 0.0), POLICY)
        assert not state.sharp
    for _ in range(4):
        at += STEP_S
        frames += round(15 * STEP_S)
        packets += 20
        state = decide(state, QualitySample(at, frames, packets, 0.05, 0.0), POLICY)
    assert state.sharp


def test_a_bad_link_leaves_the_sharp_picture_but_may_try_again() -> None:
    state = QualityState(rung=0, changed_at=0.0, sharp=True)
    state = decide(state, QualitySample(0.0, 0, 0, 0.05, 0.0), POLICY)
    state = decide(state, QualitySample(1.0, 30, 20, 0.05, 0.2), POLICY)
    assert not state.sharp and state.sharp_refused_at is None and state.rung == 0


async def test_an_id_card_is_sent_at_full_size_and_few_frames() -> None:
    for camera, poor_rung, expected, expected_poor in [
        ((1280, 720), 3, SendFormat(1280, 720, 5), SendFormat(640, 480, 5)),
        ((640, 480), 3, SendFormat(640, 480, 5), SendFormat(640, 480, 5)),
    ]:
        hub = CameraHub(SyntheticCamera(*camera, fps=30.0), synthetic=True)
        track = CameraVideoTrack(hub)
        controller = QualityController(lambda: _value(OutboundVideo()), track)
        assert track.send_format == SendFormat(640, 480, 15)
        controller.show_id(True)
        assert track.send_format == expected
        controller.state = dataclasses.replace(controller.state, rung=poor_rung)
        controller.show_id(False)
        controller.show_id(True)
        assert track.send_format == expected_poor
        controller.show_id(False)
        assert track.send_format == LEVELS[poor_rung].send
        track.stop()


async def test_a_pinned_format_holds_through_loss_a_slow_encoder_and_an_id_card() -> None:
    pinned = SendFormat(1280, 720, 30)
    hub = CameraHub(SyntheticCamera(1280, 720, fps=30.0), synthetic=True)
    track = CameraVideoTrack(hub)
    clock = ManualClock()
    reports = [OutboundVideo(0, None, None)]
    controller = QualityController(
        lambda: _value(reports[-1]), track, policy=QualityPolicy(pinned=pinned), clock=clock
    )
    try:
        assert track.send_format == pinned
        for packets, loss in [(10, 0.0), (20, 0.3), (30, 0.3), (40, 0.3)]:
            clock._now += 2.5
            reports.append(OutboundVideo(packets, 0.05, loss, reports=packets))
            track.frames_sent += round(10 * 2.5)  # a third of what 30 a second needs
            await controller.step()
            assert track.send_format == pinned
        controller.show_id(True)
        assert track.send_format == pinned
    finally:
        track.stop()
    # The link is still judged: the badge tells the patient, only the picture stays put.
    assert controller.badge.name == "poor"
    assert [change.send for change in controller.history] == [pinned]


async def test_without_a_pin_the_controller_starts_at_the_top_rung() -> None:
    hub = CameraHub(SyntheticCamera(1280, 720, fps=30.0), synthetic=True)
    track = CameraVideoTrack(hub)
    QualityController(lambda: _value(OutboundVideo()), track)
    assert QualityPolicy().pinned is None
    assert track.send_format == LEVELS[0].send
    track.stop()
