"""The network check against the loopback reference node, a closed port, a host off the
allow-list and a STUN-answering stand-in for TURN."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from kiosk.base.status import CheckStatus
from kiosk.checks.network import measure_network
from kiosk.checks.turn import TurnTarget, TurnUrlError, parse_turn_url, probe_turn
from kiosk.config import KioskConfig, TurnServer
from kiosk.engine.checks_runner import node_probe, turn_targets
from kiosk.refnode.server import RefNode
from tests.checks.stun_server import stun_responder


@pytest.fixture
async def node() -> AsyncIterator[str]:
    refnode = RefNode([])
    base_url = await refnode.start("127.0.0.1", 0)
    yield base_url
    await refnode.stop()


def closed_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def config(node_url: str, *turn: str, hosts: tuple[str, ...] = ("127.0.0.1",)) -> KioskConfig:
    return KioskConfig(
        node_url=node_url, allowed_hosts=hosts, turn_servers=tuple(TurnServer(u) for u in turn)
    )


async def test_the_local_node_is_reachable_and_fast(node: str) -> None:
    async with node_probe(config(node)) as probe:
        result = await measure_network(probe)
    assert (result.status, result.advice) == (CheckStatus.PASS, "network.ok")
    rtt, unanswered = result.figure("rtt_ms"), result.figure("unanswered")
    assert rtt is not None and 0 < rtt < 50
    assert unanswered == 0


async def test_a_closed_port_is_unreachable() -> None:
    async with node_probe(config(f"http://127.0.0.1:{closed_port()}")) as probe:
        result = await measure_network(probe)
    assert (result.status, result.advice) == (CheckStatus.FAIL, "network.node_unreachable")


async def test_a_node_off_the_allow_list_is_not_contacted(node: str) -> None:
    async with node_probe(config(node, hosts=("join.nhn.no",))) as probe:
        result = await measure_network(probe)
    assert (result.status, result.advice) == (CheckStatus.FAIL, "network.host_not_allowed")


async def test_turn_over_udp_and_tcp_answers_and_a_dead_one_fails(node: str) -> None:
    async with stun_responder() as (udp, tcp):
        good = config(node, f"turn:127.0.0.1:{udp}", f"turn:127.0.0.1:{tcp}?transport=tcp")
        targets = turn_targets(good)
        assert [t.transport for t in targets] == ["udp", "tcp"]
        for target in targets:
            assert 0 < await probe_turn(target) < 500
        async with node_probe(good) as probe:
            with_turn = await measure_network(probe, targets)
    dead = config(node, f"turn:127.0.0.1:{closed_port(socket.SOCK_DGRAM)}")
    async with node_probe(dead) as probe:
        without = await measure_network(probe, turn_targets(dead))
    assert (with_turn.status, with_turn.advice) == (CheckStatus.PASS, "network.ok")
    assert with_turn.figure("turn_ms") is not None
    assert (without.status, without.advice) == (CheckStatus.FAIL, "network.turn_unreachable")


def test_turn_urls_parse_with_their_defaults() -> None:
    assert parse_turn_url("turn:turn.example.no") == TurnTarget(
        "turn", "turn.example.no", 3478, "udp"
    )
    assert parse_turn_url("turns:turn.example.no:443") == TurnTarget(
        "turns", "turn.example.no", 443, "tcp"
    )
    assert parse_turn_url("turn:[2001:db8::1]:3479?transport=tcp") == TurnTarget(
        "turn", "2001:db8::1", 3479, "tcp"
    )
    for bad in (
        "stun:x",
        "turn:",
        "turn:x:99999",
        "turn:x?transport=sctp",
        "turns:x?transport=udp",
    ):
        with pytest.raises(TurnUrlError):
            parse_turn_url(bad)
