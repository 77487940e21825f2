"""The conference node and the practitioner bot as one process, for the far end of the fault
lab: `python -m tests.support.far_node --host IP --port P --cert C --key K --room A:PIN`
(`--room` as often as there are rooms, each with a practitioner bot).

It serves HTTPS (the kiosk only speaks plain HTTP to loopback), prints `READY <base_url>` when
listening, and takes commands on stdin, one per line: `drop_streams`, `refuse_refresh`,
`quit`. A node "restart" is this process ended and started again on the same port. Run it
with SSL_CERT_FILE naming the test CA, so that the bot trusts the node.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import ssl
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from kiosk.refnode.practitioner import PractitionerBot
from kiosk.refnode.room import RoomSpec
from kiosk.refnode.server import RefNode


def make_certificate(ip: str, directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for `ip`; returns (ca, cert, key) paths."""
    now = datetime.datetime.now(datetime.UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("kiosk test CA"))
        .issuer_name(name("kiosk test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(ip))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "node.pem", directory / "node.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def serve(args: argparse.Namespace) -> None:
    rooms = [RoomSpec.parse(text) for text in args.room]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    node = RefNode(
        rooms, waiting_timeout_s=args.waiting_timeout, token_lifetime_s=args.token_lifetime
    )
    base_url = await node.start(args.host, args.port, ssl_context=context)
    # One practitioner per room. The bots live inside the far namespace, so their own link
    # never breaks. They trust the test CA through SSL_CERT_FILE, which the lab sets.
    bots = [
        PractitionerBot(
            base_url,
            room.alias,
            room.host_pin,
            admit_after_s=args.admit_after,
            allowed_hosts=[args.host],
        )
        for room in rooms
    ]
    for bot in bots:
        await bot.start()
    print(f"READY {base_url}", flush=True)
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := (await reader.readline()).decode().strip():
            if line == "drop_streams":
                node.drop_event_streams()
            elif line == "refuse_refresh":
                node.refuse_refresh = True
            elif line == "quit":
                break
            print(f"DONE {line}", flush=True)
    finally:
        for bot in bots:
            await bot.leave()
        await node.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--room", required=True, action="append", help="alias:host_pin")
    parser.add_argument("--admit-after", type=float, default=0.3)
    parser.add_argument("--waiting-timeout", type=float, default=900.0)
    parser.add_argument("--token-lifetime", type=float, default=120.0)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
