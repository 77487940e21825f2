"""A longer fuzz run over every parser of outside input: inputs tried per parser, failures
(an error that is not the parser's named one, or an input slower than the bound), and the
slowest input's time. Usage: bench/fuzz.py [examples per parser]."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit

from tests.fuzz.targets import MAX_SECONDS, TARGETS, Target, timed


def run(target: Target, examples: int) -> dict[str, Any]:
    tried, failures, slowest = 0, [], 0.0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(target.inputs)
    def one(value: Any) -> None:
        nonlocal tried, slowest
        tried += 1
        spent, error = timed(target, value)
        if error is not None:
            failures.append(type(error).__name__)
        slowest = max(slowest, spent)
        if spent > MAX_SECONDS:
            failures.append(f"slow {spent * 1000:.1f} ms")

    one()
    return {"tried": tried, "failures": len(failures), "kinds": sorted(set(failures))[:5],
            "slowest_ms": round(slowest * 1000, 3)}  # fmt: skip


def main(examples: int = 2000) -> None:
    per_parser = {target.name: run(target, examples) for target in TARGETS}
    emit(
        {
            "bound_ms": MAX_SECONDS * 1000,
            "examples_per_parser": examples,
            "parsers": per_parser,
            "failures": sum(p["failures"] for p in per_parser.values()),
            "slowest_ms": max(p["slowest_ms"] for p in per_parser.values()),
        }
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
