"""Each rule of the reconnect policy, and its limits."""

from __future__ import annotations

import pytest

from kiosk.session.reconnect import RULES, ReconnectPolicy, Remedy, Trouble


@pytest.mark.parametrize(
    ("trouble", "remedy"),
    [
        (Trouble.MEDIA_OUTAGE, Remedy.REBUILD_CALL),
        (Trouble.ATTEMPT_FAILED, Remedy.RETRY_AFTER_BACKOFF),
        (Trouble.PARTICIPANT_LOST, Remedy.KNOCK_AGAIN),
        (Trouble.LOBBY_TIMEOUT, Remedy.KNOCK_AGAIN),
        (Trouble.STREAM_DROP, Remedy.RESUBSCRIBE),
    ],
)
def test_each_trouble_has_its_remedy(trouble: Trouble, remedy: Remedy) -> None:
    assert ReconnectPolicy().remedy(trouble) is remedy


def test_every_trouble_has_a_rule() -> None:
    assert set(RULES) == set(Trouble)


def test_lobby_timeouts_give_up_after_the_configured_knocks() -> None:
    policy = ReconnectPolicy(lobby_auto_knocks=2)
    got = [policy.remedy(Trouble.LOBBY_TIMEOUT, lobby_knocks=n) for n in range(4)]
    assert got == [Remedy.KNOCK_AGAIN, Remedy.KNOCK_AGAIN, Remedy.GIVE_UP, Remedy.GIVE_UP]


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
