"""Node discovery: SRV records from a small DNS responder on loopback, best first, and the
domain itself whenever DNS has nothing usable to say."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from kiosk.pexip import resolve_node
from kiosk.pexip.discovery import (
    SrvRecord,
    build_query,
    check_domain,
    parse_srv_response,
    system_nameserver,
)

DOMAIN = "vmr.example.org"
Answer = Callable[[bytes], bytes | None]


def _name(name: str) -> bytes:
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"


def srv_answer(query: bytes, records: list[tuple[int, int, int, str]], rcode: int = 0) -> bytes:
    """A response echoing the question, with one SRV answer per record; the owner name of
    each answer is a compression pointer to the question (offset 12), as servers do."""
    (ident,) = struct.unpack_from("!H", query)
    question = query[12:]
    header = struct.pack("!HHHHHH", ident, 0x8180 | rcode, 1, len(records), 0, 0)
    answers = b""
    for priority, weight, port, target in records:
        rdata = struct.pack("!HHH", priority, weight, port) + _name(target)
        answers += b"\xc0\x0c" + struct.pack("!HHIH", 33, 1, 60, len(rdata)) + rdata
    return header + question + answers


class Responder(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.answer: Answer = lambda query: None
        self.queries: list[bytes] = []
        # The selector loop's datagram transport is not a DatagramTransport subclass.
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queries.append(data)
        reply = self.answer(data)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


@pytest.fixture
async def dns() -> AsyncIterator[tuple[Responder, tuple[str, int]]]:
    loop = asyncio.get_running_loop()
    transport, responder = await loop.create_datagram_endpoint(
        Responder, local_addr=("127.0.0.1", 0)
    )
    yield responder, transport.get_extra_info("sockname")[:2]
    transport.close()


async def test_srv_targets_best_first(dns: tuple[Responder, tuple[str, int]]) -> None:
    responder, address = dns
    responder.answer = lambda q: srv_answer(
        q,
        [
            (20, 0, 443, "backup.example.org"),
            (10, 5, 8443, "node-b.example.org"),
            (10, 50, 443, "Node-A.example.org"),
        ],
    )
    urls = await resolve_node(DOMAIN, nameserver=address)
    assert urls == [
        "https://node-a.example.org",
        "https://node-b.example.org:8443",
        "https://backup.example.org",
    ]
    (query,) = responder.queries
    assert _name("_pexapp._tcp." + DOMAIN) + struct.pack("!HH", 33, 1) == query[12:]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda q: srv_answer(q, []), id="no-records"),
        pytest.param(lambda q: srv_answer(q, [], rcode=3), id="nxdomain"),
        pytest.param(lambda q: srv_answer(q, [], rcode=2), id="servfail"),
        pytest.param(lambda q: srv_answer(q, [(0, 0, 0, "")]), id="service-not-offered"),
        pytest.param(lambda q: srv_answer(q, [(1, 1, 443, "a.example")])[:-5], id="truncated"),
        pytest.param(
            lambda q: q[:2] + b"\x81\x80" + b"\0\0\0\x01\0\0\0\0" + b"\xc0\x0c" + b"\0" * 10,
            id="pointer-loop",
        ),
        pytest.param(lambda q: b"\xff" * 3, id="too-short"),
        pytest.param(
            lambda q: b"\0\0" + srv_answer(q, [(1, 1, 443, "a.example")])[2:], id="other-id"
        ),
        pytest.param(lambda q: None, id="silence"),
    ],
)
async def test_anything_unusable_falls_back_to_the_domain(
    dns: tuple[Responder, tuple[str, int]], answer: Answer
) -> None:
    responder, address = dns
    responder.answer = answer
    assert await resolve_node(DOMAIN, nameserver=address, timeout_s=0.3) == ["https://" + DOMAIN]


def test_a_pointer_loop_is_refused_quickly() -> None:
    query = build_query("_pexapp._tcp.a.example", 7)
    looping = struct.pack("!HHHHHH", 7, 0x8180, 0, 1, 0, 0) + b"\xc0\x0c" + b"\0" * 10
    with pytest.raises(Exception, match="loop of pointers"):
        parse_srv_response(looping, 7)
    assert parse_srv_response(srv_answer(query, [(1, 2, 3, "x.example")]), 7) == [
        SrvRecord(1, 2, 3, "x.example")
    ]


@pytest.mark.parametrize("bad", ["", "a..b", "-a.example", "a" * 64 + ".example", "é.example"])
def test_domains_are_checked(bad: str) -> None:
    with pytest.raises(ValueError, match="expected a DNS domain name"):
        check_domain(bad)


def test_the_system_nameserver_comes_from_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nsearch example\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n")
    assert system_nameserver(conf) == ("192.0.2.53", 53)
    assert system_nameserver(tmp_path / "missing") == ("127.0.0.1", 53)
