"""`kiosk audit [--root DIR] [--json]`: check a terminal, or a root tree, against the lockdown.

One line per rule (PASS/FAIL, the rule, what was found and how to fix it), or one JSON
object; the exit code is 1 if any rule fails, 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TextIO

from kiosk.system.audit_rules import Finding, run_all
from kiosk.system.config_files import Root


def format_text(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        mark = "PASS" if f.ok else "FAIL"
        line = f"{mark}  {f.id:<20} {f.rule}: {f.detail}"
        if not f.ok:
            line += f"\n      fix: {f.fix}"
        lines.append(line)
    failed = sum(not f.ok for f in findings)
    lines.append(f"{len(findings) - failed} passed, {failed} failed")
    return "\n".join(lines)


def format_json(root: Path, findings: list[Finding]) -> str:
    return json.dumps(
        {
            "root": str(root),
            "ok": all(f.ok for f in findings),
            "rules": [dataclasses.asdict(f) for f in findings],
        },
        indent=2,
    )


def main(argv: list[str], out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kiosk audit", description="Check this terminal's lockdown, rule by rule."
    )
    parser.add_argument("--root", type=Path, default=Path("/"), help="root tree to check")
    parser.add_argument("--json", action="store_true", help="one JSON object for machines")
    args = parser.parse_args(argv)
    stream = out or sys.stdout
    if not args.root.is_dir():
        print(f"kiosk audit: --root must be a directory, got {args.root}", file=sys.stderr)
        return 2
    findings = run_all(Root(args.root))
    text = format_json(args.root, findings) if args.json else format_text(findings)
    print(text, file=stream)
    return 0 if all(f.ok for f in findings) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
