"""Every message id the UI uses: `app.t["..."]` / `app.tr("...")` in the KV files and
`N_("...")` in kiosk/ui."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import kiosk.ui
from kiosk.ui.i18n import ASSETS

UI_DIR = Path(kiosk.ui.__file__).resolve().parent
KV_DIR = ASSETS / "kv"
_KV_MESSAGE = re.compile(r"""app\.(?:t\[|tr\()\s*(?P<q>["'])(?P<id>.*?)(?P=q)""")


def kv_message_ids() -> dict[str, str]:
    """id -> first file:line using it."""
    found: dict[str, str] = {}
    for path in sorted(KV_DIR.glob("*.kv")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in _KV_MESSAGE.finditer(line):
                found.setdefault(match["id"], f"{path.name}:{number}")
    return found


def python_message_ids() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(UI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "N_"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, f"{path.name}:{node.lineno}")
    return found


def all_message_ids() -> dict[str, str]:
    return {**python_message_ids(), **kv_message_ids()}
