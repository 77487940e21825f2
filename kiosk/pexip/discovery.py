"""Finding a domain's conferencing nodes, as the official clients do: DNS SRV records
`_pexapp._tcp.<domain>`, best first, falling back to the domain itself.

A small DNS client over UDP (one question, one answer) keeps this free of a resolver
dependency. Any failure (no answer, a broken or hostile packet) means "use the domain itself",
with a log line naming what went wrong.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SRV_PREFIX = "_pexapp._tcp."
_TYPE_SRV = 33
_CLASS_IN = 1
_HEADER = struct.Struct("!HHHHHH")
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_MAX_POINTERS = 32


class DnsError(Exception):
    """The answer is not a usable DNS response; the message says what was expected."""


@dataclass(frozen=True, order=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


def system_nameserver(resolv_conf: Path = Path("/etc/resolv.conf")) -> tuple[str, int]:
    """The first `nameserver` of resolv.conf, or the local stub resolver."""
    try:
        for line in resolv_conf.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] == "nameserver":
                return parts[1], 53
    except OSError:
        pass
    return "127.0.0.1", 53


def check_domain(domain: str) -> str:
    name = domain.rstrip(".").lower()
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError("expected a DNS domain name of letters, digits and hyphens")
    return name


def build_query(name: str, query_id: int, qtype: int = _TYPE_SRV) -> bytes:
    header = _HEADER.pack(query_id, 0x0100, 1, 0, 0, 0)  # recursion desired
    qname = b"".join(bytes([len(p)]) + p.encode("ascii") for p in name.split(".")) + b"\0"
    return header + qname + struct.pack("!HH", qtype, _CLASS_IN)


def _read_name(packet: bytes, offset: int) -> tuple[str, int]:
    """A possibly compressed name at `offset`; returns it and the offset after it."""
    labels: list[str] = []
    end: int | None = None
    pointers = 0
    while True:
        if offset >= len(packet):
            raise DnsError("expected a name inside the packet, got its end")
        length = packet[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(packet):
                raise DnsError("expected a two-byte name pointer, got the packet's end")
            pointers += 1
            if pointers > _MAX_POINTERS:
                raise DnsError("expected a name, got a loop of pointers")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | packet[offset + 1]
            continue
        if length & 0xC0:
            raise DnsError("expected a label length, got reserved bits")
        offset += 1
        if length == 0:
            break
        label = packet[offset : offset + length]
        if len(label) != length:
            raise DnsError("expected a whole label, got the packet's end")
        labels.append(label.decode("ascii", errors="replace"))
        offset += length
    return ".".join(labels), end if end is not None else offset


def parse_srv_response(packet: bytes, query_id: int) -> list[SrvRecord]:
    """The SRV records of a response to our query, best first (priority, then weight)."""
    if len(packet) < _HEADER.size:
        raise DnsError(f"expected a DNS header of {_HEADER.size} bytes, got {len(packet)}")
    ident, flags, qdcount, ancount, _, _ = _HEADER.unpack_from(packet)
    if ident != query_id or not flags & 0x8000:
        raise DnsError("expected the response to our query, got another packet")
    rcode = flags & 0x000F
    if rcode == 3:  # NXDOMAIN: no such records, which is an answer
        return []
    if rcode != 0:
        raise DnsError(f"expected response code 0, got {rcode}")
    offset = _HEADER.size
    for _ in range(qdcount):
        _, offset = _read_name(packet, offset)
        offset += 4
    records: list[SrvRecord] = []
    for _ in range(ancount):
        _, offset = _read_name(packet, offset)
        if offset + 10 > len(packet):
            raise DnsError("expected a resource record header, got the packet's end")
        rtype, rclass, _ttl, rdlength = struct.unpack_from("!HHIH", packet, offset)
        offset += 10
        rdata_end = offset + rdlength
        if rdata_end > len(packet):
            raise DnsError("expected record data of the stated length, got less")
        if rtype == _TYPE_SRV and rclass == _CLASS_IN:
            if rdlength < 7:
                raise DnsError(f"expected SRV data of at least 7 bytes, got {rdlength}")
            priority, weight, port = struct.unpack_from("!HHH", packet, offset)
            target, _ = _read_name(packet, offset + 6)
            # "." means the service is decidedly not offered there.
            if target and port:
                records.append(SrvRecord(priority, -weight, port, target.lower()))
        offset = rdata_end
    return [SrvRecord(r.priority, -r.weight, r.port, r.target) for r in sorted(records)]


class _OneAnswer(asyncio.DatagramProtocol):
    def __init__(self, query_id: int) -> None:
        self.answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._query_id = query_id

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        # Stray packets (wrong id) are ignored, not taken as the answer.
        ours = len(data) >= 2 and struct.unpack_from("!H", data)[0] == self._query_id
        if ours and not self.answer.done():
            self.answer.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.answer.done():
            self.answer.set_exception(exc)


async def query_srv(
    name: str, nameserver: tuple[str, int], timeout_s: float = 2.0
) -> list[SrvRecord]:
    query_id = secrets.randbelow(0x10000)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _OneAnswer(query_id), remote_addr=nameserver
    )
    try:
        transport.sendto(build_query(name, query_id))
        packet = await asyncio.wait_for(protocol.answer, timeout_s)
    finally:
        transport.close()
    return parse_srv_response(packet, query_id)


def _url(host: str, port: int) -> str:
    return f"https://{host}" if port == 443 else f"https://{host}:{port}"


async def resolve_node(
    domain: str, *, nameserver: tuple[str, int] | None = None, timeout_s: float = 2.0
) -> list[str]:
    """Base URLs of the domain's conferencing nodes, best first; the domain itself when DNS
    names none. The caller still checks each against the allow-list."""
    name = check_domain(domain)
    try:
        records = await query_srv(SRV_PREFIX + name, nameserver or system_nameserver(), timeout_s)
    except (DnsError, OSError, TimeoutError) as exc:
        log.info("node discovery by DNS SRV failed, using the domain itself: %s", exc)
        records = []
    urls = [_url(r.target, r.port) for r in records]
    return urls or [_url(name, 443)]
