"""A loopback STUN responder (UDP and TCP) standing in for a TURN server, which is not
installed here: it answers Binding requests as any TURN server does, over real sockets."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import cast

from aioice import stun


def _answer(data: bytes, addr: tuple[str, int]) -> bytes:
    request = stun.parse_message(data)
    response = stun.Message(
        message_method=stun.Method.BINDING,
        message_class=stun.Class.RESPONSE,
        transaction_id=request.transaction_id,
    )
    response.attributes["XOR-MAPPED-ADDRESS"] = addr
    return bytes(response)


class _Udp(asyncio.DatagramProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.transport.sendto(_answer(data, addr), addr)


async def _tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        header = await reader.readexactly(stun.HEADER_LENGTH)
        (length,) = struct.unpack("!H", header[2:4])
        body = await reader.readexactly(length)
        writer.write(_answer(header + body, writer.get_extra_info("peername")[:2]))
        await writer.drain()
    finally:
        writer.close()


@asynccontextmanager
async def stun_responder() -> AsyncIterator[tuple[int, int]]:
    """(udp_port, tcp_port) on 127.0.0.1."""
    loop = asyncio.get_running_loop()
    udp, _ = await loop.create_datagram_endpoint(_Udp, local_addr=("127.0.0.1", 0))
    tcp = await asyncio.start_server(_tcp, "127.0.0.1", 0)
    try:
        yield udp.get_extra_info("sockname")[1], tcp.sockets[0].getsockname()[1]
    finally:
        udp.close()
        tcp.close()
        await tcp.wait_closed()
