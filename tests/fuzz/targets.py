"""Every parser that reads outside input, as a fuzz target: what to feed it and which named
errors it may answer with. Shared by the test suite (a fixed example budget) and bench/fuzz.py
(a longer run).

A target either returns a value or raises one of its named errors; anything else, or taking
longer than MAX_SECONDS for one input, is a failure.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

from kiosk.config import ConfigError, config_from_text
from kiosk.fleet.bundle import BundleRefused, sign_bundle, verify_bundle
from kiosk.fleet.enrolment import PREFIX, EnrolmentError, parse_enrolment
from kiosk.fleet.keys import fingerprint
from kiosk.pexip.answers import parse_token
from kiosk.pexip.errors import ProtocolError
from kiosk.pexip.events import EVENT_NAMES, parse_event
from kiosk.pexip.sdp import checked_sdp
from kiosk.pexip.sse import SseParser
from kiosk.vision.join_payload import parse_join_payload

# The bound per input, for inputs up to about 1 MB, on the 2-core development machine.
MAX_SECONDS = 0.05


def timed(target: Target, value: Any) -> tuple[float, BaseException | None]:
    """CPU seconds of this thread for one input, and the unexpected error, if any. CPU time,
    not the wall clock: other processes on a shared machine do not make a parser look slow.
    An input over the bound is run once more and the faster time kept: a parser that is slow
    stays slow, a first call that warms a cache does not."""
    best, error = float("inf"), None
    for _ in range(2):
        started = time.thread_time()
        try:
            target.run(value)
        except target.named:
            pass
        except Exception as exc:  # the failure the caller counts
            error = exc
        best = min(best, time.thread_time() - started)
        if best <= MAX_SECONDS or error is not None:
            break
    return best, error


_KEY = Ed25519PrivateKey.generate()
_FP = fingerprint(_KEY.public_key())
_SITE = "fuzz-site"


@dataclass(frozen=True)
class Target:
    name: str
    inputs: st.SearchStrategy[Any]
    run: Callable[[Any], object]
    named: tuple[type[BaseException], ...]


# JSON-ish values, including the shapes that broke parsers before: deep nesting, wrong types.
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
_deep = st.integers(1, 200_000).map(lambda n: "[" * n + "]" * n)


def _with_keys(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects holding the field names a parser looks for, with any value in each."""
    return st.dictionaries(st.sampled_from(keys), _json, max_size=len(keys))


_TOKEN_KEYS = [
    "token", "expires", "participant_uuid", "role", "display_name", "service_type",
    "current_service_type", "direct_media", "stun", "turn", "use_relay_candidates_only",
]  # fmt: skip
_EVENT_KEYS = [
    "uuid", "display_name", "role", "is_muted", "has_media", "start_time", "sdp", "candidate",
    "mid", "reason", "call_uuid", "participants", "view", "screen_key", "locked", "alias",
    "token", "participant_uuid", "stage_index", "vad", "payload", "direct",
]  # fmt: skip
_CONFIG_LINES = [
    "lobby_limit_s = nan", "lobby_limit_s = 1e400", "lobby_auto_knocks = -1",
    "node_url = 'http://x.example'", "allowed_hosts = ['*.x']",
    "nurse_pin_hash = 'scrypt$1$1$1$a$b'",
    "[[turn_servers]]", "url = 'turn:x'", "site = 'a'", "x = [[[[", "a.b.c.d = 1",
]  # fmt: skip


def _token_answers() -> st.SearchStrategy[Any]:
    return _json | _with_keys(_TOKEN_KEYS)


def _event(pair: tuple[str, str]) -> object:
    return parse_event(*pair)


def _events() -> st.SearchStrategy[tuple[str, str]]:
    data = st.one_of(
        _with_keys(_EVENT_KEYS).map(json.dumps),
        _json.map(json.dumps),
        st.text(max_size=200),
        _deep,
    )
    return st.tuples(st.sampled_from(sorted(EVENT_NAMES)) | st.text(max_size=20), data)


def _sse(chunks: list[bytes]) -> object:
    parser = SseParser(max_event_bytes=64 * 1024)
    out = []
    for chunk in chunks:
        out += parser.feed(chunk)
    return out


def _sse_inputs() -> st.SearchStrategy[list[bytes]]:
    pieces = st.sampled_from(
        [b"data: ", b"event: x", b"id: 1", b":", b"\r", b"\n", b"\r\n", b"\xef\xbb\xbf", b"\0"]
    )
    chunk = st.binary(max_size=64) | pieces | st.integers(1, 200_000).map(lambda n: b"x" * n)
    return st.lists(chunk, max_size=40)


def _sdp_inputs() -> st.SearchStrategy[object]:
    lines = st.sampled_from(
        ["v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "t=0 0", "m=audio 9 UDP/TLS/RTP/SAVPF 111",
         "m=", "c=IN IP4", "a=candidate:x", "a=rtpmap:111 opus/48000/2", "b=AS:x"]
    ) | st.text(max_size=60)  # fmt: skip
    return _json | st.lists(lines, max_size=30).map("\r\n".join)


def _qr_inputs() -> st.SearchStrategy[bytes]:
    urls = st.sampled_from(
        ["https://join.nhn.no/webapp/conference/", "https://join.nhn.no/webapp/#/?conference=",
         "http://join.nhn.no/", "https://user@join.nhn.no/", "https://join.nhn.no:1/", ""]
    )  # fmt: skip
    return st.binary(max_size=600) | st.tuples(urls, st.text(max_size=40)).map(
        lambda p: (p[0] + p[1]).encode("utf-8")
    )


def _enrolment_inputs() -> st.SearchStrategy[str]:
    body = (_json | _with_keys(["u", "f", "s", "t"])).map(
        lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode().rstrip("=")
    )
    return st.text(max_size=200) | st.tuples(st.sampled_from(["1", "2", ""]), body).map(
        lambda p: f"{PREFIX}{p[0]}:{p[1]}"
    )


def _config_inputs() -> st.SearchStrategy[str]:
    return (
        st.text(max_size=300)
        | st.lists(st.sampled_from(_CONFIG_LINES), max_size=8).map("\n".join)
        | st.integers(1, 10_000).map(lambda n: "x = " + "[" * n + "]" * n)
    )


_GOOD_CONFIG = f"site = '{_SITE}'\n"


def _bundle(raw: bytes) -> object:
    return verify_bundle(raw, trusted_fingerprint=_FP, site=_SITE, current_version=1)


def _bundle_inputs() -> st.SearchStrategy[bytes]:
    good = sign_bundle(_KEY, version=2, site=_SITE, config_text=_GOOD_CONFIG)

    def flip(position_and_byte: tuple[int, int]) -> bytes:
        position, byte = position_and_byte
        data = bytearray(good)
        data[position % len(data)] = byte
        return bytes(data)

    return st.one_of(
        st.binary(max_size=400),
        _json.map(lambda v: json.dumps(v).encode()),
        _deep.map(str.encode),
        st.tuples(st.integers(0, len(good)), st.integers(0, 255)).map(flip),
        st.just(good),
    )


TARGETS: tuple[Target, ...] = (
    Target("qr_payload", _qr_inputs(), lambda d: parse_join_payload(d, ("join.nhn.no",)), ()),
    Target("config_toml", _config_inputs(), config_from_text, (ConfigError,)),
    Target("bundle", _bundle_inputs(), _bundle, (BundleRefused,)),
    Target("enrolment_code", _enrolment_inputs(), parse_enrolment, (EnrolmentError,)),
    Target("sse_framing", _sse_inputs(), _sse, ()),
    Target("event_payload", _events(), _event, ()),
    Target("token_answer", _token_answers(), parse_token, (ProtocolError,)),
    Target("sdp", _sdp_inputs(), checked_sdp, (ProtocolError,)),
)
