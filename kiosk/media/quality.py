"""Adaptive send quality: picture size and frame rate from the measured network and CPU.

A Pi encodes VP8 in software; on a bad link or a busy CPU a smaller picture at a lower rate
keeps the clinician's view moving and the voice clear. `decide` is a pure function of the
previous state, one sample and the policy: it steps down at once when loss, round trip or
the encoder falling behind say so, and steps back up one level only after conditions have
been good for a while (hysteresis: the "good" thresholds are stricter than the "bad" ones).
`QualityController` polls a `Call` and applies the level to its camera track.

Above the top rung is the sharp picture (`SHARP`, 1280x720@30), taken only where this
terminal shows at run time that it can: a good spell at the top rung with the encoder keeping
up with room to spare, and a camera that delivers that size. If the encoder then falls behind,
the picture goes back to the top rung and the sharp one is not tried again for
`sharp_retry_s`. While the patient shows an ID card the track sends the sharpest frames the
link allows instead: the camera's full size (up to 1280x720) at 5 frames a second on a good or
fair link, 640x480 at that rate on a poor one; a card is read from still frames, and fewer of
them leave each one more of the link.

The connection badge the patient sees is not the rung: the picture size climbs back slowly
on purpose, but the badge must say how the link is now. `LinkBadge` reads the same samples
and judges only fresh receiver reports (the stats repeat the last one until the next comes):
"poor" or "fair" on the first bad one, "good" again after two good ones in a row, about two
seconds of a clean link. Neither judges the first report after a silence: it counts the
packets lost in an outage that is over.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kiosk.base.clock import Clock, MonotonicClock
from kiosk.media.call import OutboundVideo
from kiosk.media.tracks import CameraVideoTrack, SendFormat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityLevel:
    """One rung. `name` is what the connection badge shows: good, fair or poor."""

    rung: int
    name: str
    send: SendFormat
    audio_first: bool = False

    @property
    def label(self) -> str:
        return f"{self.send.width}x{self.send.height}@{self.send.fps:g}"


LEVELS: tuple[QualityLevel, ...] = (
    QualityLevel(0, "good", SendFormat(640, 480, 15)),
    QualityLevel(1, "fair", SendFormat(480, 360, 15)),
    QualityLevel(2, "poor", SendFormat(320, 240, 12)),
    # The voice matters most: a thin picture leaves the link to the audio.
    QualityLevel(3, "poor", SendFormat(320, 240, 8), audio_first=True),
)


SHARP = SendFormat(1280, 720, 30)
ID_CARD = SendFormat(1280, 720, 5)
ID_CARD_POOR = SendFormat(640, 480, 5)


@dataclass(frozen=True)
class QualityPolicy:
    bad_loss: float = 0.05  # fraction of video packets lost that means "step down"
    bad_rtt_s: float = 0.4
    severe_loss: float = 0.15  # this bad: skip a rung
    severe_rtt_s: float = 1.0
    good_loss: float = 0.02  # better than this (and good_rtt_s) counts towards stepping up
    good_rtt_s: float = 0.25
    min_keep_up: float = 0.75  # frames produced / frames due below this: the CPU is short
    down_hold_s: float = 2.0  # after a change, the stats need this long to show its effect
    up_after_s: float = 8.0  # good for this long before one rung up
    # Receiver reports come about once a second from a browser (RFC 3550 allows one every
    # 5 s). The first after a silence longer than this and than `report_gap_times` the
    # usual spacing counts what was lost while none came through: an outage, which is the
    # liveness watch's business and over by now, not how the link is.
    report_gap_s: float = 3.0
    report_gap_times: float = 2.5
    # The sharp picture: None where the camera cannot deliver it.
    sharp: SendFormat | None = SHARP
    sharp_keep_up: float = 0.95  # the encoder kept up this well at the top rung
    sharp_retry_s: float = 300.0  # after the encoder fell behind on it
    # One format whatever the link, the CPU or an ID card: a cost measured at a known size
    # and rate means nothing if the picture adapts under the load being measured. Never set
    # on a terminal; the stats are still read and the badge still follows the link.
    pinned: SendFormat | None = None

    def __post_init__(self) -> None:
        if not (self.good_loss < self.bad_loss <= self.severe_loss):
            raise ValueError(
                "expected good_loss < bad_loss <= severe_loss, got "
                f"{self.good_loss}, {self.bad_loss}, {self.severe_loss}"
            )
        if not (self.good_rtt_s < self.bad_rtt_s <= self.severe_rtt_s):
            raise ValueError(
                "expected good_rtt_s < bad_rtt_s <= severe_rtt_s, got "
                f"{self.good_rtt_s}, {self.bad_rtt_s}, {self.severe_rtt_s}"
            )


@dataclass(frozen=True)
class QualitySample:
    at: float  # clock time of the sample
    frames_sent: int  # cumulative frames the camera track produced
    packets_sent: int  # cumulative outbound video packets
    round_trip_s: float | None = None
    fraction_lost: float | None = None  # 0..1
    reports: int | None = None  # receiver reports so far; None: every sample counts as fresh
    fps: float | None = None  # the rate the track was set to send (None: the rung's)


@dataclass(frozen=True)
class QualityState:
    rung: int = 0
    changed_at: float = 0.0
    good_since: float | None = None
    last: QualitySample | None = None
    reason: str = "start"
    sharp: bool = False  # the sharp picture, above the top rung
    sharp_refused_at: float | None = None  # when the encoder fell behind on it
    report_at: float | None = None  # when the latest fresh receiver report was seen
    report_every_s: float | None = None  # the usual spacing of the reports

    @property
    def level(self) -> QualityLevel:
        return LEVELS[self.rung]

    def send(self, policy: QualityPolicy) -> SendFormat:
        return policy.sharp if self.sharp and policy.sharp is not None else self.level.send


def keep_up(previous: QualitySample, sample: QualitySample, fps: float) -> float | None:
    """Frames the track produced over frames it should have (None without time between, or
    before the encoder asked for its first frame: a call's set-up is not the CPU falling
    behind)."""
    elapsed = sample.at - previous.at
    if elapsed <= 0 or previous.frames_sent == 0:
        return None
    return (sample.frames_sent - previous.frames_sent) / (fps * elapsed)


def after_a_silence(
    report_at: float | None, every_s: float | None, now: float, policy: QualityPolicy
) -> tuple[bool, float | None]:
    """Whether a fresh report seen at `now` is the first after an outage, and the usual
    spacing of the reports from now on (an outage's silence is not usual)."""
    if report_at is None:
        return False, every_s
    gap = now - report_at
    usual = every_s is None or gap <= policy.report_gap_times * every_s
    silence = gap > policy.report_gap_s and (every_s is None or not usual)
    return silence, gap if usual else every_s


def decide(
    state: QualityState, sample: QualitySample, policy: QualityPolicy = QualityPolicy()
) -> QualityState:
    """The next state after `sample`."""
    previous = state.last
    state = dataclasses.replace(state, last=sample)
    if previous is None:
        return state
    if sample.packets_sent <= previous.packets_sent:
        # Nothing went out: the link is down, which is the liveness watch's business;
        # reports meanwhile are stale and say nothing about the picture size.
        return dataclasses.replace(state, good_since=None)
    ratio = keep_up(previous, sample, sample.fps or state.send(policy).fps)
    cpu_short = ratio is not None and ratio < policy.min_keep_up
    fresh = sample.reports is None or sample.reports != previous.reports
    if fresh and sample.reports is not None:
        silence, every_s = after_a_silence(state.report_at, state.report_every_s, sample.at, policy)
        state = dataclasses.replace(state, report_at=sample.at, report_every_s=every_s)
        if silence:
            return dataclasses.replace(state, good_since=None)
    if not fresh and not cpu_short:
        # No new report since the last look: its figures were judged then. Judging them
        # again would count one old bad report as a lasting spell; the good spell goes on.
        return state
    loss = (sample.fraction_lost or 0.0) if fresh else 0.0
    rtt = (sample.round_trip_s or 0.0) if fresh else 0.0
    bad = loss > policy.bad_loss or rtt > policy.bad_rtt_s or cpu_short
    if bad and state.sharp:
        # Back to the top rung first; the encoder falling behind rules the sharp picture out
        # for a while, a bad link only for now.
        reason = f"loss {loss:.0%}, rtt {rtt * 1000:.0f} ms, keep-up {ratio or 0:.2f}"
        return dataclasses.replace(
            state,
            sharp=False,
            sharp_refused_at=sample.at if cpu_short else state.sharp_refused_at,
            changed_at=sample.at,
            good_since=None,
            reason=reason,
        )
    if bad:
        if sample.at - state.changed_at < policy.down_hold_s or state.rung == len(LEVELS) - 1:
            return dataclasses.replace(state, good_since=None)
        severe = loss > policy.severe_loss or rtt > policy.severe_rtt_s
        rung = min(len(LEVELS) - 1, state.rung + (2 if severe else 1))
        reason = f"loss {loss:.0%}, rtt {rtt * 1000:.0f} ms, keep-up {ratio or 0:.2f}"
        return dataclasses.replace(
            state, rung=rung, changed_at=sample.at, good_since=None, reason=reason
        )
    good = loss < policy.good_loss and rtt < policy.good_rtt_s
    if not good:
        return dataclasses.replace(state, good_since=None)
    good_since = state.good_since if state.good_since is not None else sample.at
    since = max(good_since, state.changed_at)
    if state.rung == 0 and not state.sharp and sample.at - since >= policy.up_after_s:
        refused = state.sharp_refused_at
        if (
            policy.sharp is not None
            and ratio is not None
            and ratio >= policy.sharp_keep_up
            and (refused is None or sample.at - refused >= policy.sharp_retry_s)
        ):
            return dataclasses.replace(
                state,
                sharp=True,
                changed_at=sample.at,
                good_since=sample.at,
                reason=f"room for a sharper picture (keep-up {ratio:.2f})",
            )
    if state.rung > 0 and sample.at - since >= policy.up_after_s:
        return dataclasses.replace(
            state,
            rung=state.rung - 1,
            changed_at=sample.at,
            good_since=sample.at,
            reason="recovered",
        )
    return dataclasses.replace(state, good_since=good_since)


class LinkBadge:
    """good / fair / poor from the far end's fresh receiver reports on our video."""

    def __init__(self, policy: QualityPolicy = QualityPolicy(), good_reports: int = 2) -> None:
        self._policy = policy
        self._good_reports = good_reports
        self._good_run = good_reports
        self._reports: int | None = None
        self._report_at: float | None = None
        self._report_every_s: float | None = None
        self.name = "good"

    def feed(self, video: OutboundVideo, now: float) -> str:
        fresh = video.reports is not None and video.reports != self._reports
        if not fresh:
            return self.name
        self._reports = video.reports
        silence, self._report_every_s = after_a_silence(
            self._report_at, self._report_every_s, now, self._policy
        )
        self._report_at = now
        if silence:
            return self.name
        p = self._policy
        loss, rtt = video.fraction_lost or 0.0, video.round_trip_s or 0.0
        if loss > p.bad_loss or rtt > p.bad_rtt_s:
            self._good_run = 0
            self.name = "poor" if loss > p.severe_loss or rtt > p.severe_rtt_s else "fair"
        elif loss < p.good_loss and rtt < p.good_rtt_s:
            self._good_run += 1
            if self._good_run >= self._good_reports:
                self.name = "good"
            elif self.name == "poor":
                self.name = "fair"
        else:
            self._good_run = 0
            self.name = "fair"
        return self.name


@dataclass(frozen=True)
class QualityChange:
    at: float
    level: QualityLevel
    reason: str
    send: SendFormat | None = None  # what the track sends from now on (None: the level's)

    @property
    def label(self) -> str:
        send = self.send or self.level.send
        return f"{send.width}x{send.height}@{send.fps:g}"


class QualityController:
    """Polls the call's outbound stats and sets its camera track's format."""

    def __init__(
        self,
        stats: Callable[[], Awaitable[OutboundVideo]],
        track: CameraVideoTrack,
        *,
        policy: QualityPolicy = QualityPolicy(),
        clock: Clock | None = None,
        interval_s: float = 0.5,
        on_change: Callable[[QualityChange], None] | None = None,
    ) -> None:
        self._stats = stats
        self._track = track
        width, height = track.source_size
        if policy.sharp is not None and (
            width < policy.sharp.width or height < policy.sharp.height
        ):
            policy = dataclasses.replace(policy, sharp=None)
        self._policy = policy
        self._clock = clock or MonotonicClock()
        self._interval_s = interval_s
        self._on_change = on_change
        self._showing_id = False
        self.badge = LinkBadge(policy)
        now = self._clock.now()
        self.state = QualityState(changed_at=now)
        track.set_format(self.send)
        self.history: list[QualityChange] = [QualityChange(now, self.level, "start", self.send)]

    @property
    def level(self) -> QualityLevel:
        return self.state.level

    @property
    def send(self) -> SendFormat:
        """What the track sends now: the pinned format, the ID-card frames, the sharp picture
        or the rung's."""
        if self._policy.pinned is not None:
            return self._policy.pinned
        if not self._showing_id:
            return self.state.send(self._policy)
        wanted = ID_CARD if self.state.rung <= 1 else ID_CARD_POOR
        width, height = self._track.source_size
        if width < wanted.width or height < wanted.height:
            return SendFormat(width - width % 2, height - height % 2, wanted.fps)
        return wanted

    def show_id(self, showing: bool) -> None:
        """The patient holds an ID card up (True) or is done (False)."""
        if showing != self._showing_id:
            self._showing_id = showing
            self._apply("showing an ID card" if showing else "ID card put away")

    async def step(self) -> QualityLevel:
        """Take one sample and apply the decision."""
        video = await self._stats()
        now = self._clock.now()
        self.badge.feed(video, now)
        sample = QualitySample(
            now,
            self._track.frames_sent,
            video.packets_sent,
            video.round_trip_s,
            video.fraction_lost,
            video.reports,
            self._track.send_format.fps,
        )
        before = (self.state.rung, self.state.sharp)
        self.state = decide(self.state, sample, self._policy)
        if (self.state.rung, self.state.sharp) != before:
            self._apply(self.state.reason)
        return self.level

    def _apply(self, reason: str) -> None:
        send = self.send
        if send == self._track.send_format:
            return
        self._track.set_format(send)
        change = QualityChange(self._clock.now(), self.level, reason, send)
        self.history.append(change)
        log.info("send quality %s (%s): %s", self.level.name, change.label, reason)
        if self._on_change is not None:
            self._on_change(change)

    async def run(self) -> None:
        """Until cancelled."""
        while True:
            await self.step()
            await self._clock.sleep(self._interval_s)


__all__ = [
    "ID_CARD",
    "ID_CARD_POOR",
    "LEVELS",
    "SHARP",
    "LinkBadge",
    "QualityChange",
    "QualityController",
    "QualityLevel",
    "QualityPolicy",
    "QualitySample",
    "QualityState",
    "decide",
    "keep_up",
]
