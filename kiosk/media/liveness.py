"""Is media arriving? aiortc only notices a dead link after 24-36 s of failed consent checks,
so the kiosk watches its own inbound counters and declares an outage within a second.

`InboundWatch` is pure: it is fed counter samples and reads an injectable clock. Three judges,
the first that speaks wins:

- The RTP arrival gap (`rtp_gap_s`): the far end sends an audio packet every 20 ms and video
  packets besides, so under 30 % loss a run of 25 lost packets in a row (0.5 s) has a chance of
  about 1e-13, while a cut shows as a growing gap at once.
- The transport: a peer connection that reports "failed" or "closed" is an outage whatever
  the counters say.
- A new call's start: the grace for its first packets (`start_grace_s`) runs from the moment
  its transport is connected, since on a busy terminal ICE and DTLS alone can take seconds;
  a transport still not connected after `connect_limit_s` is an outage.
- Each watched counter has a window (`window_s`, or its own in `windows`) within which it
  must move: a far end that stops sending one kind, or a picture that stays frozen while
  its packets still arrive (which a keyframe request, see `FrozenPicture`, usually mends
  first: the window for decoded frames is the last resort).

The kiosk reads packets on the same loop that draws the screen, so a loop that stalls (a slow
frame, a busy core) stops the reading too: after a stall the samples show a gap that the
network never had, and the packets held in the socket meanwhile arrive just after. A gap
therefore counts only once the samples have come on time (each within `on_time_s` of the
previous) for as long as the gap itself must last: packets are read whenever the loop runs,
so a gap seen by a loop that ran all along is the network's.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from kiosk.base.clock import Clock
from kiosk.media.call import Call, InboundCounters

log = logging.getLogger(__name__)

DEFAULT_WATCHED = ("audio_packets", "video_frames")


class Health(enum.Enum):
    IDLE = "idle"  # nothing expected (not in a call)
    STARTING = "starting"  # expected, not every kind has arrived yet
    FLOWING = "flowing"
    OUTAGE = "outage"


@dataclass(frozen=True)
class HealthChange:
    health: Health
    at: float
    stalled: tuple[str, ...] = ()  # what said "outage": counters, "rtp_gap" or "transport"


class InboundWatch:
    def __init__(
        self,
        clock: Clock,
        *,
        window_s: float = 2.0,
        start_grace_s: float = 5.0,
        watched: tuple[str, ...] = DEFAULT_WATCHED,
        windows: dict[str, float] | None = None,
        rtp_gap_s: float | None = None,
        on_time_s: float = 0.3,
        connect_limit_s: float = 15.0,
    ) -> None:
        counters = set(InboundCounters.__dataclass_fields__) - {"rtp_gap_s", "transport"}
        unknown = set(watched) - counters
        if unknown or not watched:
            raise ValueError(
                f"watched must name InboundCounters fields (got {sorted(unknown) or 'none'})"
            )
        if not window_s > 0 or not start_grace_s > 0:
            raise ValueError(
                f"window_s and start_grace_s must be positive (got {window_s}, {start_grace_s})"
            )
        if rtp_gap_s is not None and not rtp_gap_s > 0:
            raise ValueError(f"rtp_gap_s must be positive (got {rtp_gap_s})")
        if windows is not None and (
            set(windows) - set(watched) or any(not w > 0 for w in windows.values())
        ):
            raise ValueError(f"windows must give positive windows for watched names ({windows})")
        self._clock = clock
        self.window_s = window_s
        self.rtp_gap_s = rtp_gap_s
        self.windows = dict(windows or {})
        self.start_grace_s = start_grace_s
        self.watched = watched
        self.on_time_s = on_time_s
        self.connect_limit_s = connect_limit_s
        self.health = Health.IDLE
        self.history: list[HealthChange] = [HealthChange(Health.IDLE, clock.now())]
        self._last: dict[str, int] = {}
        self._moved_at: dict[str, float] = {}
        self._since = clock.now()
        self._expected_at = clock.now()
        self._fed_at: float | None = None
        self._on_time_since = clock.now()
        self._outage_at = 0.0

    def expect(self, expected: bool) -> HealthChange | None:
        """Start (True) or stop (False) expecting media. Starting forgets old counters, so a
        new call's counters, which begin at zero, are judged on their own."""
        now = self._clock.now()
        self._last.clear()
        self._moved_at.clear()
        self._since = now
        self._expected_at = now
        self._fed_at = None
        self._on_time_since = now
        return self._move(Health.STARTING if expected else Health.IDLE, now)

    def feed(self, counters: InboundCounters) -> HealthChange | None:
        """Take one sample; returns the change of health it caused, if any."""
        if self.health is Health.IDLE:
            return None
        now = self._clock.now()
        if self._fed_at is not None and now - self._fed_at > self.on_time_s:
            self._on_time_since = now
        self._fed_at = now
        if self.health is Health.STARTING and counters.transport in ("new", "connecting"):
            # Not connected yet: the grace for the first packets has not begun.
            self._since = now
            if now - self._expected_at > self.connect_limit_s:
                return self._move(Health.OUTAGE, now, ("transport",))
        for name in self.watched:
            value = getattr(counters, name)
            # A counter that went down belongs to a new call: it only sets the baseline.
            if value > self._last.get(name, 0):
                self._moved_at[name] = now
            self._last[name] = value
        stalled = tuple(n for n in self.watched if self._stalled(n, now))
        gap = counters.rtp_gap_s
        if (
            self.rtp_gap_s is not None
            and gap is not None
            and gap > self.rtp_gap_s
            and now - self._on_time_since >= self.rtp_gap_s
        ):
            stalled = ("rtp_gap", *stalled)
        if counters.transport in ("failed", "closed"):
            stalled = ("transport", *stalled)
        if self.health is Health.STARTING:
            if stalled:
                return self._move(Health.OUTAGE, now, stalled)
            if all(n in self._moved_at for n in self.watched):
                return self._move(Health.FLOWING, now)
        elif self.health is Health.FLOWING:
            if stalled:
                return self._move(Health.OUTAGE, now, stalled)
        elif not stalled and all(
            self._moved_at.get(n, -1.0) > self._outage_at for n in self.watched
        ):
            return self._move(Health.FLOWING, now)
        return None

    def _stalled(self, name: str, now: float) -> bool:
        moved = self._moved_at.get(name)
        if moved is None:
            return now - self._since > self.start_grace_s
        return now - moved > self.windows.get(name, self.window_s)

    def _move(
        self, health: Health, now: float, stalled: tuple[str, ...] = ()
    ) -> HealthChange | None:
        if health is self.health:
            return None
        self.health = health
        if health is Health.OUTAGE:
            self._outage_at = now
        change = HealthChange(health, now, stalled)
        self.history.append(change)
        log.info("inbound media %s %s", health.value, ",".join(stalled))
        return change


class Mend(enum.Enum):
    """What to do for a frozen picture."""

    KEYFRAME = "keyframe"  # ask the far end for a new picture
    RESTART = "restart"  # ask, and start the jitter buffer afresh for it


class FrozenPicture:
    """Video packets arrive but no picture is decoded. Usually the decoder waits for a
    keyframe that the far end sends only every few seconds unless asked: ask (RTCP PLI), at
    most once per `every_s`, after `after_s` without a new frame while packets came in.

    When a packet was lost for good (its resend lost too), aiortc's jitter buffer holds every
    later frame behind it, the asked-for keyframe included, until 512 newer packets have come:
    at a low bitrate, a minute. So a picture still frozen after `restart_after_s`, long enough
    for a resend and a keyframe to have come, is mended by starting the buffer afresh.

    A picture that stood still because nothing arrived (an outage) is not frozen: its clock
    starts when packets come back. Counting the outage would restart the buffer a moment
    after the link returns, throwing away the first picture being put together, which the
    call's own gap mending (`Call`: a keyframe asked for with the first packet back) is
    already bringing."""

    def __init__(
        self, after_s: float = 0.3, every_s: float = 0.5, restart_after_s: float = 1.0
    ) -> None:
        self.after_s = after_s
        self.every_s = every_s
        self.restart_after_s = restart_after_s
        self._frames = -1
        self._packets = -1
        self._frame_at: float | None = None
        self._packets_at: float | None = None
        self._asked_at: float | None = None

    def feed(self, counters: InboundCounters, now: float) -> Mend | None:
        packets_moved = counters.video_packets > self._packets >= 0
        if counters.video_frames != self._frames or self._frame_at is None:
            self._frames, self._frame_at = counters.video_frames, now
        elif (
            packets_moved and self._packets_at is not None and now - self._packets_at > self.after_s
        ):
            self._frame_at = now  # back after a silence: nothing was there to decode
        self._packets = counters.video_packets
        if packets_moved:
            self._packets_at = now
        if not packets_moved or now - self._frame_at < self.after_s:
            return None
        if self._asked_at is not None and now - self._asked_at < self.every_s:
            return None
        self._asked_at = now
        return Mend.RESTART if now - self._frame_at >= self.restart_after_s else Mend.KEYFRAME


async def watch_call(
    call: Call,
    watch: InboundWatch,
    on_change: Callable[[HealthChange], None],
    clock: Clock,
    interval_s: float = 0.1,
) -> None:
    """Poll the call's counters until cancelled, reporting each change of health and asking
    for a keyframe while the picture is frozen."""
    frozen = FrozenPicture()

    async def sample() -> InboundCounters:
        counters = await call.inbound()
        mend = frozen.feed(counters, clock.now())
        if mend is Mend.KEYFRAME:
            log.info("video packets without a picture: asking for a keyframe")
            call.request_keyframe()
        elif mend is Mend.RESTART:
            log.info("video packets without a picture for a while: restarting its jitter buffer")
            call.request_keyframe(restart_buffer=True)
        return counters

    await watch_counters(sample, watch, on_change, clock, interval_s)


async def watch_counters(
    sample: Callable[[], Awaitable[InboundCounters]],
    watch: InboundWatch,
    on_change: Callable[[HealthChange], None],
    clock: Clock,
    interval_s: float = 0.25,
) -> None:
    while True:
        change = watch.feed(await sample())
        if change is not None:
            on_change(change)
        await clock.sleep(interval_s)


__all__ = [
    "DEFAULT_WATCHED",
    "FrozenPicture",
    "Health",
    "HealthChange",
    "InboundWatch",
    "Mend",
    "watch_call",
    "watch_counters",
]
