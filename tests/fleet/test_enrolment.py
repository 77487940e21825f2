from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import decode

from kiosk.fleet.enrolment import (
    Enrolment,
    EnrolmentError,
    enrolment_from_json,
    make_qr,
    parse_enrolment,
)
from kiosk.fleet.keys import b64url

FP = "sha256:" + "A" * 43
names = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,15}(\.[a-z][a-z0-9-]{0,10}){1,3}", fullmatch=True)
fingerprints = st.from_regex(r"sha256:[A-Za-z0-9_-]{43}", fullmatch=True)


@given(host=hosts, fp=fingerprints, site=names, terminal=names)
def test_payload_round_trip(host: str, fp: str, site: str, terminal: str) -> None:
    enrolment = Enrolment(f"https://{host}/sites/{site}/bundle.json", fp, site, terminal)
    payload = enrolment.payload()
    assert payload.startswith("KIOSK-ENROL:1:")
    assert parse_enrolment(payload) == enrolment
    assert enrolment_from_json(enrolment.to_json()) == enrolment


@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_cleanly(text: str) -> None:
    with pytest.raises(EnrolmentError):
        parse_enrolment(text)


@given(st.binary(max_size=200))
def test_arbitrary_bytes_after_the_prefix_are_refused_cleanly(body: bytes) -> None:
    with pytest.raises(EnrolmentError):
        parse_enrolment("KIOSK-ENROL:1:" + b64url(body))


@given(
    st.dictionaries(
        st.sampled_from(["u", "f", "s", "t", "x"]),
        st.one_of(st.text(max_size=40), st.integers(), st.none(), st.lists(st.text(max_size=3))),
    )
)
def test_hostile_json_objects_are_refused_cleanly(data: dict[str, object]) -> None:
    payload = "KIOSK-ENROL:1:" + b64url(json.dumps(data).encode())
    with pytest.raises(EnrolmentError):
        parse_enrolment(payload)


def _payload(**fields: object) -> str:
    body = {"u": "https://fleet.example.org/b.json", "f": FP, "s": "oslo", "t": "k1"}
    body.update(fields)  # type: ignore[arg-type]
    return "KIOSK-ENROL:1:" + b64url(json.dumps(body).encode())


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("https://join.nhn.no/123456", "another QR code"),
        ("KIOSK-ENROL:2:e30", "expected payload version 1"),
        ("KIOSK-ENROL:1:e30=", "base64url"),
        ("KIOSK-ENROL:1:" + base64.b64encode(b'{"u":"??>"}').decode(), "base64url"),
        (_payload(u="http://fleet.example.org/b.json"), "https"),
        (_payload(u="file:///etc/passwd"), "https"),
        (_payload(u="https:///nohost"), "host"),
        (_payload(f="md5:abc"), "signer_fingerprint"),
        (_payload(s="Oslo Sentrum"), "site"),
        (_payload(t="../../etc"), "terminal"),
        (_payload(t=5), "terminal: expected a string"),
        (_payload(x="extra"), "expected keys"),
        ("KIOSK-ENROL:1:" + "A" * 2000, "at most"),
    ],
)
def test_each_bad_payload_names_its_problem(payload: str, message: str) -> None:
    with pytest.raises(EnrolmentError, match=message):
        parse_enrolment(payload)


def test_loopback_http_is_accepted_for_tests() -> None:
    assert parse_enrolment(_payload(u="http://127.0.0.1:8080/b.json")).config_url.startswith(
        "http:"
    )


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_qr_files_carry_the_payload(tmp_path: Path, suffix: str) -> None:
    enrolment = Enrolment("https://fleet.example.org/sites/oslo/bundle.json", FP, "oslo", "k1")
    out = tmp_path / f"enrol{suffix}"
    make_qr(enrolment, out)
    if suffix == ".svg":
        assert out.read_text().startswith("<?xml")
        return
    decoded = decode(Image.open(out))
    assert [d.data.decode() for d in decoded] == [enrolment.payload()]


def test_qr_as_terminal_text_and_bad_suffix(tmp_path: Path) -> None:
    enrolment = Enrolment("https://fleet.example.org/b.json", FP, "oslo", "k1")
    text = make_qr(enrolment)
    assert len(text.splitlines()) > 10 and "█" in text
    with pytest.raises(EnrolmentError, match=r"\.png or \.svg"):
        make_qr(enrolment, tmp_path / "x.jpg")
