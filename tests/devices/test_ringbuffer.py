from __future__ import annotations

import numpy as np
import pytest

from kiosk.devices.ringbuffer import FLOOR_DBFS, RingBuffer, measure


def ramp(start: int, count: int) -> np.ndarray:
    return np.arange(start, start + count, dtype=np.int16)


def test_reads_back_in_order_across_the_wrap() -> None:
    ring = RingBuffer(10)
    ring.write(ramp(0, 7))
    assert ring.read(5).tolist() == [0, 1, 2, 3, 4]
    ring.write(ramp(7, 6))  # wraps
    assert ring.available == 8
    assert ring.read(100).tolist() == list(range(5, 13))
    assert ring.available == 0
    assert ring.dropped == 0


def test_full_buffer_drops_the_oldest_and_counts() -> None:
    ring = RingBuffer(4)
    ring.write(ramp(0, 3))
    ring.write(ramp(3, 3))
    assert ring.dropped == 2
    assert ring.read(4).tolist() == [2, 3, 4, 5]
    ring.write(ramp(10, 9))
    assert ring.dropped == 2 + 5
    assert ring.read(9).tolist() == [15, 16, 17, 18]


def test_read_exact_pads_with_silence() -> None:
    ring = RingBuffer(8)
    ring.write(ramp(1, 3))
    assert ring.read_exact(5).tolist() == [1, 2, 3, 0, 0]
    assert ring.read_exact(2).tolist() == [0, 0]


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"positive number of samples \(got 0\)"):
        RingBuffer(0)


def test_level_of_a_full_scale_sine_and_of_silence() -> None:
    t = np.arange(4800) / 48000
    sine = (np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
    level = measure(sine)
    assert level.rms_dbfs == pytest.approx(-3.01, abs=0.05)
    assert level.peak == pytest.approx(1.0, abs=1e-3)
    assert measure(np.zeros(960, np.int16)).rms_dbfs == FLOOR_DBFS
    assert measure(np.zeros(0, np.int16)).peak == 0.0
