"""The video redraw rate follows the measured cost of presenting a frame."""

from __future__ import annotations

import itertools

import pytest

from kiosk.ui.pace import DrawPace


def test_a_fast_swap_draws_at_the_full_rate() -> None:
    pace = DrawPace(max_hz=20, share=0.3)
    for _ in range(10):
        pace.presented(0.002)
    assert pace.interval_s == pytest.approx(0.05)


def test_a_slow_swap_keeps_drawing_to_its_share_of_the_loop() -> None:
    pace = DrawPace(max_hz=20, min_hz=4, share=0.3)
    for _ in range(10):
        pace.presented(0.040)
    # 40 ms a frame at 30 %: one frame every 133 ms, not every 50.
    assert pace.interval_s == pytest.approx(0.040 / 0.3)
    for _ in range(20):
        pace.presented(1.0)
    assert pace.interval_s == pytest.approx(0.25)  # never slower than min_hz


def test_one_stall_does_not_slow_the_picture() -> None:
    pace = DrawPace(max_hz=20, share=0.3)
    for took in (0.002, 0.002, 0.5, 0.002, 0.002):
        pace.presented(took)
    assert pace.interval_s == pytest.approx(0.05)


def test_due_and_drawn_history() -> None:
    pace = DrawPace(max_hz=20, share=0.3)
    pace.presented(0.029)  # 97 ms between frames: every other 50 ms tick
    seen = []
    for tick in range(12):
        now = tick * 0.05
        due = pace.due(now)
        seen.append(due)
        if due:
            pace.drawn(now)
    assert seen == [True, False] * 6


def draws_in(pace: DrawPace, polls: list[float]) -> list[float]:
    drawn = []
    for now in polls:
        if pace.due(now):
            pace.drawn(now)
            drawn.append(now)
    return drawn


def test_polls_a_hair_early_do_not_halve_the_rate() -> None:
    # Polled at the full rate with the clock's jitter: a poll 0.1 ms before the interval
    # is up is drawn, and the average stays at the full rate, never above it.
    pace = DrawPace(max_hz=20, share=0.3)
    pace.presented(0.002)
    polls = [i * 0.05 + (-0.0001 if i % 2 else 0.0001) for i in range(200)]
    drawn = draws_in(pace, polls)
    rate = (len(drawn) - 1) / (drawn[-1] - drawn[0])
    assert 19.0 <= rate <= 20.05, rate


def test_a_slow_swap_keeps_its_share_on_average_when_polled_faster() -> None:
    # 36 ms to present: one frame every 120 ms, polled every 50 ms. Waiting for each gap
    # to be whole drew one every 150 ms; the average is now the interval's.
    pace = DrawPace(max_hz=20, share=0.3)
    pace.presented(0.036)
    drawn = draws_in(pace, [i * 0.05 for i in range(400)])
    rate = (len(drawn) - 1) / (drawn[-1] - drawn[0])
    assert rate == pytest.approx(0.3 / 0.036, rel=0.03)
    gaps = [b - a for a, b in itertools.pairwise(drawn)]
    assert min(gaps) >= 0.06 - 1e-9  # never closer than half the interval


def test_no_burst_after_a_pause() -> None:
    pace = DrawPace(max_hz=20, share=0.3)
    pace.presented(0.002)
    pace.drawn(0.0)
    # Nothing new to draw for 5 s (the far end's picture froze); then polls every 10 ms.
    drawn = draws_in(pace, [5.0 + i * 0.01 for i in range(100)])
    gaps = [b - a for a, b in itertools.pairwise(drawn)]
    assert gaps and min(gaps) >= 0.025 - 1e-9, gaps
    assert len(drawn) <= 21  # one second: at most one frame more than the full rate


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="min_hz"):
        DrawPace(max_hz=2, min_hz=4)
    with pytest.raises(ValueError, match="share"):
        DrawPace(share=0)
