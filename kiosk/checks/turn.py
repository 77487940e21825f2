"""Can the kiosk reach its TURN server? One STUN Binding request over the URL's transport.

A TURN server answers Binding requests without credentials, so an answer proves the server
is up and reachable through the site's firewall on that port and transport. It does not prove
the credentials work: an Allocate needs them and is left to the call itself.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
import time
from dataclasses import dataclass
from urllib.parse import parse_qs

from aioice import stun

DEFAULT_PORTS = {"turn": 3478, "turns": 5349}
UDP_RESEND_S = 0.25  # a lost datagram is sent again, as a STUN client would


class TurnUrlError(ValueError):
    pass


@dataclass(frozen=True)
class TurnTarget:
    scheme: str  # turn, turns
    host: str
    port: int
    transport: str  # udp, tcp

    @property
    def label(self) -> str:
        return f"{self.scheme}:{self.host}:{self.port}/{self.transport}"


def parse_turn_url(url: str) -> TurnTarget:
    """`turn:host[:port][?transport=udp|tcp]` or `turns:host[:port]` (TLS over TCP)."""
    scheme, sep, rest = url.partition(":")
    if not sep or scheme not in DEFAULT_PORTS:
        raise TurnUrlError(f"expected a turn: or turns: URL, got {url!r}")
    address, _, query = rest.partition("?")
    transport = parse_qs(query).get("transport", ["tcp" if scheme == "turns" else "udp"])[0]
    if transport not in ("udp", "tcp") or (scheme == "turns" and transport != "tcp"):
        raise TurnUrlError(f"expected transport udp or tcp (tcp for turns:), got {transport!r}")
    if address.startswith("["):
        host, _, tail = address[1:].partition("]")
        port_text = tail.removeprefix(":")
    else:
        host, _, port_text = address.partition(":")
    if not host:
        raise TurnUrlError(f"expected a host in {url!r}")
    try:
        port = int(port_text) if port_text else DEFAULT_PORTS[scheme]
    except ValueError:
        raise TurnUrlError(f"expected a numeric port in {url!r}, got {port_text!r}") from None
    if not 0 < port < 65536:
        raise TurnUrlError(f"expected a port 1-65535 in {url!r}, got {port}")
    return TurnTarget(scheme, host, port, transport)


def _request() -> stun.Message:
    return stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)


def _answers(data: bytes, request: stun.Message) -> bool:
    try:
        message = stun.parse_message(data)
    except ValueError:
        return False
    return (
        message.transaction_id == request.transaction_id
        and message.message_method == stun.Method.BINDING
        and message.message_class in (stun.Class.RESPONSE, stun.Class.ERROR)
    )


class _UdpAnswer(asyncio.DatagramProtocol):
    def __init__(self, request: stun.Message) -> None:
        self.request = request
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if _answers(data, self.request) and not self.answered.done():
            self.answered.set_result(None)

    def error_received(self, exc: Exception) -> None:
        if not self.answered.done():
            self.answered.set_exception(exc)


async def _probe_udp(target: TurnTarget, timeout_s: float) -> None:
    loop = asyncio.get_running_loop()
    request = _request()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _UdpAnswer(request), remote_addr=(target.host, target.port)
    )
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                transport.sendto(bytes(request))
                done, _ = await asyncio.wait({protocol.answered}, timeout=UDP_RESEND_S)
                if done:
                    protocol.answered.result()
                    return
    finally:
        transport.close()


async def _probe_tcp(target: TurnTarget, timeout_s: float) -> None:
    tls = ssl.create_default_context() if target.scheme == "turns" else None
    async with asyncio.timeout(timeout_s):
        reader, writer = await asyncio.open_connection(target.host, target.port, ssl=tls)
        try:
            request = _request()
            writer.write(bytes(request))
            await writer.drain()
            header = await reader.readexactly(stun.HEADER_LENGTH)
            (length,) = struct.unpack("!H", header[2:4])
            body = await reader.readexactly(length)
            if not _answers(header + body, request):
                raise ConnectionError("expected a STUN Binding answer, got something else")
        finally:
            writer.close()


async def probe_turn(target: TurnTarget, timeout_s: float = 1.5) -> float:
    """Milliseconds until the server answered; raises OSError or TimeoutError if it did not."""
    started = time.monotonic()
    if target.transport == "udp":
        await _probe_udp(target, timeout_s)
    else:
        await _probe_tcp(target, timeout_s)
    return (time.monotonic() - started) * 1000.0
