"""The `kiosk` command: the app on a terminal, the demo, and the tools IT runs."""

from __future__ import annotations

import argparse
import sys

from kiosk.base.privacy import configure_logging


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Clinic telehealth kiosk")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run against a local conference node and practitioner bot")
    demo.add_argument("--headless", action="store_true", help="no window: a scripted patient")
    demo.add_argument("--json", action="store_true", help="print the result as JSON")
    demo.add_argument("--admit-after", type=float, default=3.0, metavar="SECONDS")
    demo.add_argument(
        "--patience",
        type=float,
        default=1.0,
        metavar="FACTOR",
        help="with --headless: wait this many times longer at each step (an emulated machine)",
    )
    sub.add_parser("run", help="run the kiosk on this terminal (what the service starts)")
    sub.add_parser("pin-hash", help="read a staff PIN and print the hash for the configuration")
    for name, what in (
        ("audit", "check this terminal's lockdown"),
        ("config", "sign, verify or pull configuration bundles"),
        ("enrol", "make enrolment QR codes"),
        ("ctl", "talk to the running kiosk"),
        ("out-of-order", "show the out-of-order screen"),
    ):
        sub.add_parser(name, help=what, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Tools with their own argument parsers get the rest of the line untouched.
    if argv and argv[0] in ("audit", "config", "enrol", "ctl", "out-of-order"):
        return _delegate(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    import logging

    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    if args.command == "demo":
        from kiosk.cli.demo import main as demo_main

        if args.patience <= 0:
            _parser().error(f"--patience must be above 0, got {args.patience}")
        return demo_main(args.headless, args.json, args.admit_after, args.patience)
    if args.command == "pin-hash":
        return _pin_hash()
    if args.command == "run":
        from kiosk.cli.terminal import main as run_main

        return run_main()
    raise AssertionError(args.command)


def _pin_hash() -> int:
    import getpass

    from kiosk.base.pins import hash_pin

    pin = getpass.getpass("Staff PIN (6-12 digits): ") if sys.stdin.isatty() else input()
    try:
        print(hash_pin(pin.strip()))
    except ValueError as exc:
        print(f"kiosk pin-hash: {exc}", file=sys.stderr)
        return 2
    return 0


def _delegate(command: str, rest: list[str]) -> int:
    if command == "audit":
        from kiosk.system.audit import main as audit_main

        return audit_main(rest)
    if command == "out-of-order":
        from kiosk.system.out_of_order import main as ooo_main

        return ooo_main(rest)
    from kiosk.fleet.cli import main as fleet_main

    return fleet_main([command, *rest])
