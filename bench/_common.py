"""Shared pieces of the benchmarks: timing, medians, the one JSON line."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any


def time_ms(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000.0, result


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3)


def emit(result: dict[str, Any]) -> None:
    """Print the benchmark's figures as one JSON object, the last line of its output."""
    print(json.dumps(result, sort_keys=True))
