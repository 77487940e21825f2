from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.vision.join_payload import JoinTarget, Refusal, parse_join_payload

ALLOWED = ("join.nhn.no",)
HOST = "join.nhn.no"
BAD_HOST = Refusal("qr.host_not_allowed")


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"123456", JoinTarget("123456", None)),
        (
            b"https://join.nhn.no/webapp/conference/123456?role=guest",
            JoinTarget("123456", HOST),
        ),
        (
            b"https://JOIN.nhn.no/webapp/#/?conference=654321&pin=",
            JoinTarget("654321", HOST),
        ),
        (b"https://join.nhn.no:443/webapp/conference/123456", JoinTarget("123456", HOST)),
        (b"12345", Refusal("qr.bad_link")),
        (b"1234567", Refusal("qr.bad_link")),
        (b"http://join.nhn.no/webapp/conference/123456", Refusal("qr.not_https")),
        (b"javascript:alert(1)", Refusal("qr.not_https")),
        (
            b"https://join.nhn.no.evil.example/webapp/conference/123456",
            Refusal("qr.host_not_allowed"),
        ),
        (
            b"https://join.nhn.no@evil.example/webapp/conference/123456",
            Refusal("qr.host_not_allowed"),
        ),
        (
            b"https://evil.example@join.nhn.no/webapp/conference/123456",
            Refusal("qr.host_not_allowed"),
        ),
        (b"https://join.nhn.no:8443/webapp/conference/123456", BAD_HOST),
        ("https://jоin.nhn.no/webapp/conference/123456".encode(), Refusal("qr.not_text")),
        (b"https://xn--jin-ked.nhn.no/webapp/conference/123456", BAD_HOST),
        (b"https://join.nhn.no/webapp/conference/12345a", Refusal("qr.bad_link")),
        (b"https://join.nhn.no/webapp/conference/123456/../x", Refusal("qr.bad_link")),
        (b"https://join.nhn.no/webapp/#/?conference=1&conference=123456", Refusal("qr.bad_link")),
        (b"\x00\xff\x10binary", Refusal("qr.not_text")),
        (b"https://join.nhn.no/webapp/conference/123456?" + b"a" * 600, Refusal("qr.too_long")),
        (b"123456\n\x07", Refusal("qr.not_text")),
    ],
)
def test_hostile_and_good_payloads(payload: bytes, expected: JoinTarget | Refusal) -> None:
    assert parse_join_payload(payload, ALLOWED) == expected


@given(st.binary(max_size=700))
def test_no_bytes_crash_the_parser(data: bytes) -> None:
    result = parse_join_payload(data, ALLOWED)
    assert isinstance(result, JoinTarget | Refusal)
    if isinstance(result, JoinTarget):
        assert result.host in (None, "join.nhn.no")


@given(st.text(max_size=120), st.text(max_size=40))
def test_nothing_off_the_allow_list_is_accepted(host: str, tail: str) -> None:
    url = f"https://{host}/webapp/conference/123456{tail}".encode(errors="surrogatepass")
    result = parse_join_payload(url, ALLOWED)
    if isinstance(result, JoinTarget):
        assert result.host == "join.nhn.no"
