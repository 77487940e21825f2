"""`kiosk config ...`, `kiosk enrol ...` and `kiosk ctl ...`: the fleet's command line.

Exit status: 0 done (or nothing to do), 1 refused (the reason is printed), 2 usage or local
problem, 3 the server or the kiosk could not be reached, 4 malformed (a bundle or TOML too
large, nested too deep or not parseable at all).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kiosk.config import ConfigError, ConfigMalformed
from kiosk.fleet import ctl
from kiosk.fleet.bundle import BundleRefused, Reason, sign_bundle, verify_bundle
from kiosk.fleet.enrolment import Enrolment, EnrolmentError, make_qr, parse_enrolment
from kiosk.fleet.keys import (
    KeyFormatError,
    check_fingerprint,
    fingerprint,
    generate_key,
    load_private_key,
    parse_public_key,
)
from kiosk.fleet.pull import FetchError, enrol, pull
from kiosk.fleet.store import ConfigStore

DEFAULT_CONFIG_DIR = Path("/etc/kiosk")
DEFAULT_SOCKET = Path("/run/kiosk/ctl.sock")

OK, REFUSED, USAGE, UNREACHABLE, MALFORMED = 0, 1, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="Fleet tools of the kiosk")
    top = p.add_subparsers(dest="area", required=True)

    config = top.add_parser("config", help="signed configuration").add_subparsers(
        dest="cmd", required=True
    )
    keygen = config.add_parser("keygen", help="new signer key (IT side)")
    keygen.add_argument("--key", type=Path, required=True, help="private key file to create")
    sign = config.add_parser("sign", help="sign a TOML file into a bundle (IT side)")
    sign.add_argument("--key", type=Path, required=True)
    sign.add_argument("--site", required=True)
    sign.add_argument("--version", type=int, required=True, help="must grow with every bundle")
    sign.add_argument("--issued-at", help="ISO 8601 UTC time (default: now)")
    sign.add_argument("toml", type=Path)
    sign.add_argument("-o", "--out", type=Path, required=True)
    verify = config.add_parser("verify", help="check a bundle file without installing it")
    verify.add_argument("bundle", type=Path)
    verify.add_argument("--fingerprint", required=True)
    verify.add_argument("--site", required=True)
    verify.add_argument("--current-version", type=int)
    pull_p = config.add_parser("pull", help="fetch, verify and install (terminal side)")
    pull_p.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    pull_p.add_argument("--ca-file", type=Path, help="CA bundle instead of the system store")
    pull_p.add_argument("--group", help="group that may read the installed files")
    fp = config.add_parser("fingerprint", help="fingerprint of a public key file")
    fp.add_argument("public_key", type=Path)

    en = top.add_parser("enrol", help="enrolment").add_subparsers(dest="cmd", required=True)
    qr = en.add_parser("make-qr", help="QR code for a new terminal")
    qr.add_argument("--url", required=True, help="where the terminal pulls its bundle")
    qr.add_argument("--fingerprint", help="signer key fingerprint")
    qr.add_argument("--public-key", type=Path, help="or the signer's public key file")
    qr.add_argument("--site", required=True)
    qr.add_argument("--terminal", required=True)
    qr.add_argument("-o", "--out", type=Path, help=".png or .svg; terminal text if absent")
    apply = en.add_parser("apply", help="enrol this terminal from a scanned payload")
    apply.add_argument("payload")
    apply.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG_DIR)
    apply.add_argument("--ca-file", type=Path)
    apply.add_argument("--group")

    c = top.add_parser("ctl", help="control the running kiosk")
    c.add_argument("--socket", type=Path, default=DEFAULT_SOCKET)
    cc = c.add_subparsers(dest="cmd", required=True)
    cc.add_parser("status")
    for name in ("reboot", "reload-config"):
        sub = cc.add_parser(name)
        sub.add_argument("--when-idle", action="store_true", help="wait for the session to end")
        sub.add_argument("--timeout", type=float, help="give up after this many seconds")
    wait = cc.add_parser("wait-idle")
    wait.add_argument("--timeout", type=float)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return _run(args)
    except (FetchError, ctl.CtlUnreachable) as exc:
        print(exc, file=sys.stderr)
        return UNREACHABLE
    except (BundleRefused, ctl.CtlError) as exc:
        print(exc, file=sys.stderr)
        malformed = isinstance(exc, BundleRefused) and exc.reason is Reason.MALFORMED
        return MALFORMED if malformed else REFUSED
    except ConfigMalformed as exc:
        print(exc, file=sys.stderr)
        return MALFORMED
    except (ConfigError, EnrolmentError, KeyFormatError, OSError) as exc:
        print(exc, file=sys.stderr)
        return USAGE


def _run(args: argparse.Namespace) -> int:
    if args.area == "config":
        return _config(args)
    if args.area == "enrol":
        return _enrol(args)
    return _ctl(args)


def _config(args: argparse.Namespace) -> int:
    if args.cmd == "keygen":
        key = generate_key(args.key)
        print(fingerprint(key.public_key()))
        return OK
    if args.cmd == "fingerprint":
        print(fingerprint(parse_public_key(args.public_key.read_text())))
        return OK
    if args.cmd == "sign":
        data = sign_bundle(
            load_private_key(args.key),
            version=args.version,
            site=args.site,
            config_text=args.toml.read_text(encoding="utf-8"),
            issued_at=args.issued_at,
        )
        args.out.write_bytes(data)
        return OK
    if args.cmd == "verify":
        bundle = verify_bundle(
            args.bundle.read_bytes(),
            trusted_fingerprint=check_fingerprint(args.fingerprint),
            site=args.site,
            current_version=args.current_version,
        )
        print(f"valid: version {bundle.payload.version} for site {bundle.payload.site}")
        return OK
    store = ConfigStore(args.config_dir, args.group)
    result = asyncio.run(pull(store, args.ca_file))
    print(f"{result.outcome.value}: version {result.version}")
    return OK


def _enrol(args: argparse.Namespace) -> int:
    if args.cmd == "make-qr":
        if (args.fingerprint is None) == (args.public_key is None):
            print("give exactly one of --fingerprint and --public-key", file=sys.stderr)
            return USAGE
        fp = args.fingerprint or fingerprint(parse_public_key(args.public_key.read_text()))
        enrolment = Enrolment(args.url, fp, args.site, args.terminal)
        print(make_qr(enrolment, args.out))
        return OK
    store = ConfigStore(args.config_dir, args.group)
    result = asyncio.run(enrol(store, parse_enrolment(args.payload), args.ca_file))
    print(f"enrolled: version {result.version}")
    return OK


def _ctl(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"cmd": args.cmd}
    if getattr(args, "when_idle", False):
        request["when_idle"] = True
    if getattr(args, "timeout", None) is not None:
        request["timeout_s"] = args.timeout

    def progress(event: dict[str, Any]) -> None:
        print(f"{args.cmd}: waiting for the consultation to end", file=sys.stderr)

    reply = asyncio.run(ctl.ctl_request(args.socket, request, progress))
    print(json.dumps(reply.get("result", {}), sort_keys=True))
    return OK
