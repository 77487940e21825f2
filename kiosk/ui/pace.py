"""How often the screen may redraw the video, from how long presenting a frame takes.

The window's buffer swap runs on the thread and loop that also read the call's packets and
feed its encoder. With a GPU a swap takes a millisecond or two; with software rendering (no
GPU driver, a virtual display) it takes tens of milliseconds at 1280x800, and redrawing at
the video's own rate then keeps the loop busy most of the time: packets wait in the socket,
the encoder falls behind and an outage is noticed seconds late. The call matters more than
the smoothness of its picture on the terminal's own screen, so the redraw rate follows the
measured swap time: drawing may take at most `share` of the loop's time.

The interval bounds the average rate, not every gap: the screen is polled on a clock of its
own, and a poll that comes a hair before the interval is up would otherwise wait a whole
poll period (a 15 fps picture polled at 20 Hz was drawn at 10). A late draw lets the next
one come early by as much, never by more than half an interval, so two frames are never
drawn back to back, after a pause or ever.
"""

from __future__ import annotations

import statistics
from collections import deque


class DrawPace:
    def __init__(
        self,
        *,
        max_hz: float = 20.0,
        min_hz: float = 4.0,
        share: float = 0.3,
        samples: int = 20,
    ) -> None:
        if not 0 < min_hz <= max_hz or not 0 < share <= 1 or samples < 1:
            raise ValueError(
                f"expected 0 < min_hz <= max_hz, 0 < share <= 1 and samples >= 1 "
                f"(got {min_hz}, {max_hz}, {share}, {samples})"
            )
        self.max_hz = max_hz
        self.min_hz = min_hz
        self.share = share
        self._took: deque[float] = deque(maxlen=samples)
        self._next_at: float | None = None

    def presented(self, seconds: float) -> None:
        """One frame was presented (the buffer swap) in `seconds`."""
        if seconds >= 0:
            self._took.append(seconds)

    @property
    def median_s(self) -> float:
        """The median time to present a frame, of the recent ones (0 before the first)."""
        return statistics.median(self._took) if self._took else 0.0

    @property
    def interval_s(self) -> float:
        """The shortest time between two redraws of the video."""
        wanted = self.median_s / self.share
        return min(max(wanted, 1.0 / self.max_hz), 1.0 / self.min_hz)

    def due(self, now: float) -> bool:
        """True when a new video frame may be drawn at `now`."""
        return self._next_at is None or now >= self._next_at

    def drawn(self, now: float) -> None:
        """A new video frame went on screen at `now`."""
        interval = self.interval_s
        due_at = now if self._next_at is None else max(self._next_at, now - interval / 2)
        self._next_at = due_at + interval


__all__ = ["DrawPace"]
