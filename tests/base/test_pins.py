from __future__ import annotations

import pytest

from kiosk.base.pins import PinHashError, check_pin, hash_pin


def test_a_pin_matches_only_its_own_hash() -> None:
    stored = hash_pin("246813", n=2**10)
    assert check_pin("246813", stored)
    assert not check_pin("2469", stored)
    assert not check_pin("", stored)
    assert "246813" not in stored


def test_two_hashes_of_one_pin_differ_by_salt() -> None:
    assert hash_pin("246813", n=2**10) != hash_pin("246813", n=2**10)


def test_no_configured_pin_opens_nothing() -> None:
    assert not check_pin("0000", "")


@pytest.mark.parametrize("stored", ["md5$abc", "scrypt$x$8$1$AA$AA", "plain-text-pin"])
def test_a_malformed_hash_is_reported(stored: str) -> None:
    with pytest.raises(PinHashError):
        check_pin("1234", stored)


@pytest.mark.parametrize("pin", ["12", "2468", "24681", "abcdef", "1234567890123"])
def test_only_six_to_twelve_digits_can_be_a_staff_pin(pin: str) -> None:
    with pytest.raises(ValueError, match="6 to 12 digits"):
        hash_pin(pin)
