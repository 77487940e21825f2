"""Each parser of outside input answers a value or its named error, within the time bound."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from .targets import MAX_SECONDS, TARGETS, Target, timed

# A fixed budget: the whole suite stays well under a minute; bench/fuzz.py runs longer.
EXAMPLES = 80


def check_one(target: Target, value: Any) -> float:
    spent, error = timed(target, value)
    if error is not None:
        raise error
    return spent


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_a_value_or_a_named_error_within_the_bound(target: Target) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(target.inputs)
    def run(value: Any) -> None:
        spent = check_one(target, value)
        assert spent < MAX_SECONDS, f"{target.name}: {spent * 1000:.1f} ms for one input"

    run()


def test_a_megabyte_of_each_hostile_shape_within_the_bound() -> None:
    megabyte = 1024 * 1024
    shapes: dict[str, Any] = {
        "sse_framing": [b"data: " + b"x" * megabyte],
        "event_payload": ("participant_update", "[" * megabyte),
        "token_answer": {"stun": [{"url": "x"}] * 1000, "token": "t" * megabyte},
        "sdp": "v=0\r\n" + "a=x\r\n" * (megabyte // 5),
        "config_toml": "x = " + "[" * (megabyte // 2) + "]" * (megabyte // 2),
        "bundle": b"[" * megabyte,
        "enrolment_code": "KIOSK-ENROL:1:" + "A" * megabyte,
        "qr_payload": b"1" * megabyte,
    }
    by_name = {t.name: t for t in TARGETS}
    assert set(shapes) == set(by_name)
    for name, value in shapes.items():
        spent = check_one(by_name[name], value)
        assert spent < MAX_SECONDS, f"{name}: {spent * 1000:.1f} ms for 1 MB"
