"""A bounded, thread-safe sample buffer that drops the oldest samples when full.

Audio must never build up delay: a late reader gets the newest half-second, not a backlog."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.int16]  # mono, 48 kHz, int16

FLOOR_DBFS = -100.0


class RingBuffer:
    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be a positive number of samples (got {capacity})")
        self.capacity = capacity
        self._data = np.zeros(capacity, np.int16)
        self._start = 0
        self._size = 0
        self._lock = threading.Lock()
        self.dropped = 0  # samples thrown away because the reader was late
        self.written = 0  # samples ever written, for tests and the log

    @property
    def available(self) -> int:
        return self._size

    def write(self, samples: Samples) -> None:
        samples = samples.reshape(-1)
        with self._lock:
            self.written += len(samples)
            if len(samples) >= self.capacity:
                self.dropped += self._size + len(samples) - self.capacity
                self._data[:] = samples[-self.capacity :]
                self._start, self._size = 0, self.capacity
                return
            overflow = self._size + len(samples) - self.capacity
            if overflow > 0:
                self.dropped += overflow
                self._start = (self._start + overflow) % self.capacity
                self._size -= overflow
            end = (self._start + self._size) % self.capacity
            first = min(len(samples), self.capacity - end)
            self._data[end : end + first] = samples[:first]
            self._data[: len(samples) - first] = samples[first:]
            self._size += len(samples)

    def read(self, count: int) -> Samples:
        """Up to `count` samples, oldest first."""
        with self._lock:
            count = min(count, self._size)
            first = min(count, self.capacity - self._start)
            out = np.concatenate(
                (
                    self._data[self._start : self._start + first],
                    self._data[: count - first],
                )
            )
            self._start = (self._start + count) % self.capacity
            self._size -= count
            return out

    def read_exact(self, count: int) -> Samples:
        """Exactly `count` samples: what there is, then silence."""
        out = self.read(count)
        if len(out) < count:
            out = np.concatenate((out, np.zeros(count - len(out), np.int16)))
        return out

    def clear(self) -> None:
        with self._lock:
            self._start = self._size = 0


@dataclass(frozen=True)
class Level:
    rms_dbfs: float = FLOOR_DBFS
    peak: float = 0.0  # 0..1 of full scale


def measure(samples: Samples) -> Level:
    if len(samples) == 0:
        return Level()
    values = samples.astype(np.float32) / 32768.0
    rms = float(np.sqrt(np.mean(values * values)))
    dbfs = 20 * math.log10(rms) if rms > 0 else FLOOR_DBFS
    return Level(max(FLOOR_DBFS, dbfs), float(np.max(np.abs(values))))
