"""The video redraw rate follows the measured cost of presenting a frame."""

from __future__ import annotations

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


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="min_hz"):
        DrawPace(max_hz=2, min_hz=4)
    with pytest.raises(ValueError, match="share"):
        DrawPace(share=0)
