"""The SSE reader: the event-stream rules, its size cap, chunking, and hostile bytes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.pexip.sse import SseMessage, SseParser, read_sse


def _parse(data: bytes, max_event_bytes: int = 1024) -> list[SseMessage]:
    return SseParser(max_event_bytes).feed(data)


def test_fields_comments_and_multi_line_data() -> None:
    stream = (
        b": a comment\n"
        b'event: participant_update\nid: 7\ndata: {"a":\ndata:1}\n\n'
        b"data: no event name\n\n"
        b"event: empty\n\n"
        b"event:no_space\ndata:x\n\n"
    )
    assert _parse(stream) == [
        SseMessage("participant_update", '{"a":\n1}', "7"),
        SseMessage("message", "no event name", "7"),
        SseMessage("no_space", "x", "7"),
    ]


def test_crlf_and_cr_line_ends_split_anywhere() -> None:
    stream = b"\xef\xbb\xbfevent: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r"
    whole = _parse(stream)
    assert whole == [SseMessage("a", "1"), SseMessage("b", "2")]
    for cut in range(len(stream)):
        parser = SseParser()
        assert parser.feed(stream[:cut]) + parser.feed(b"") + parser.feed(stream[cut:]) == whole


def test_an_event_over_the_cap_is_dropped_and_the_next_one_kept() -> None:
    parser = SseParser(max_event_bytes=100)
    big = b"event: big\n" + b"data: " + b"x" * 60 + b"\n" + b"data: " + b"y" * 60 + b"\n\n"
    huge_line = b"event: huge\ndata: " + b"z" * 5000 + b"\n\n"
    out = parser.feed(big) + parser.feed(huge_line[:1000]) + parser.feed(huge_line[1000:])
    out += parser.feed(b"event: small\ndata: ok\n\n")
    assert out == [SseMessage("small", "ok")]
    assert parser.dropped == 2


_lines = st.lists(
    st.sampled_from([b"event: a", b"data: x", b"data:", b": c", b"id: 1", b"", b"retry: 5"])
    | st.binary(max_size=20),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    lines=_lines, sep=st.sampled_from([b"\n", b"\r\n", b"\r"]), cuts=st.lists(st.integers(0, 400))
)
def test_any_bytes_in_any_chunking_give_the_same_messages(
    lines: list[bytes], sep: bytes, cuts: list[int]
) -> None:
    stream = sep.join(lines) + sep + sep
    whole = SseParser(64).feed(stream)
    parser = SseParser(64)
    pieces: list[SseMessage] = []
    start = 0
    for cut in sorted(c for c in cuts if c < len(stream)):
        pieces += parser.feed(stream[start:cut])
        start = cut
    pieces += parser.feed(stream[start:])
    assert pieces == whole
    assert all(len(m.data) <= 64 for m in whole)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=2000))
def test_random_bytes_never_raise(data: bytes) -> None:
    assert isinstance(SseParser(256).feed(data), list)


async def test_reads_a_live_stream_over_loopback() -> None:
    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for piece in (b"event: one\nda", b"ta: 1\n\n: keepalive\n\n", b"event: two\ndata: 2\n\n"):
            await response.write(piece)
        return response

    app = web.Application()
    app.router.add_get("/events", events)
    async with (
        TestServer(app) as server,
        aiohttp.ClientSession() as session,
        session.get(server.make_url("/events")) as response,
    ):
        got = [m async for m in read_sse(response.content.iter_any())]
    assert got == [SseMessage("one", "1"), SseMessage("two", "2")]


async def _chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_read_sse_ends_with_its_input() -> None:
    got = [m async for m in read_sse(_chunks(b"data: a\n\n", b"data: unfinished"))]
    assert got == [SseMessage("message", "a")]


def test_a_long_line_in_small_chunks_costs_time_linear_in_its_bytes() -> None:
    # A node that drips one long line must not make each chunk rescan everything before it.
    line = b"data: " + b"x" * 200_000 + b"\n\n"
    parser = SseParser(max_event_bytes=256 * 1024)
    started = time.process_time()
    out: list[SseMessage] = []
    for i in range(0, len(line), 16):
        out += parser.feed(line[i : i + 16])
    spent = time.process_time() - started
    assert [len(m.data) for m in out] == [200_000]
    assert spent < 1.0, f"{spent:.2f} s of CPU for {len(line)} bytes in 16-byte chunks"


def test_an_endless_line_is_dropped_and_the_stream_goes_on() -> None:
    parser = SseParser(max_event_bytes=1024)
    started = time.process_time()
    for _ in range(20_000):
        assert parser.feed(b"data: " + b"y" * 100) == []
    assert len(parser._buffer) <= 2048
    assert parser.feed(b"\n\ndata: next\n\n") == [SseMessage("message", "next")]
    assert parser.dropped == 1
    assert time.process_time() - started < 1.0
