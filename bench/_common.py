"""Shared pieces of the benchmarks: timing, medians, the one JSON line."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import time
from collections.abc import Callable, Coroutine
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


def emit_with_private_audio(main: Coroutine[Any, Any, dict[str, Any]]) -> None:
    """Run `main` with the kiosk's sound on a private PulseAudio of null sinks (this machine
    has no sound card), then print its figures as the last line."""
    from tests.support.pulse import start_pulse

    logging.basicConfig(level=logging.WARNING)
    pulse = start_pulse()
    try:
        emit(asyncio.run(main))
    finally:
        pulse.stop()
