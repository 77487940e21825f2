"""The reconnect policy's waits and limits (what each trouble does is in the table)."""

from __future__ import annotations

import pytest

from kiosk.session.reconnect import ReconnectPolicy


def test_backoff_grows_then_repeats_its_last_wait() -> None:
    policy = ReconnectPolicy(backoff_s=(0.5, 1.0, 3.0))
    assert [policy.backoff(n) for n in range(0, 6)] == [0.5, 0.5, 1.0, 3.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backoff_s": ()}, "backoff_s must be"),
        ({"backoff_s": (-1.0,)}, "backoff_s must be"),
        ({"still_trying_s": 200.0, "give_up_s": 120.0}, "still_trying_s must be"),
        ({"lobby_auto_knocks": -1}, "lobby_auto_knocks must be"),
    ],
)
def test_a_policy_that_makes_no_sense_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReconnectPolicy(**kwargs)  # type: ignore[arg-type]
