"""The packages of `kiosk` import one way (DESIGN.md §2, README's picture); kivy stays in
kiosk/ui/; the session does no I/O; the reference node shares no code with the client it
tests. Every import is resolved: absolute, relative (`from ..media import call`) and
`from kiosk import ui` alike, wherever it stands in a module (functions included)."""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "kiosk"

_ALL = {
    "base", "config", "session", "devices", "pexip", "system", "vision", "media", "checks",
    "fleet", "engine", "refnode", "ui",
}  # fmt: skip

# package -> the kiosk packages it may import (besides itself). Lower layers never import
# higher ones: ui -> engine -> session/pexip/media/checks/vision/devices -> base.
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "config": {"base"},
    "session": {"base"},
    "devices": {"base"},
    "pexip": {"base"},
    "system": {"base", "config"},
    "vision": {"base", "devices"},
    "media": {"base", "devices"},
    "checks": {"base", "devices", "vision"},
    # IT's view of a running kiosk: it reads the session's state types, and the engine only
    # through a protocol of its own.
    "fleet": {"base", "config", "session", "system"},
    "engine": {"base", "config", "session", "pexip", "media", "devices", "vision", "checks"},
    # The practitioner bot is a client of the node, so it uses the client; the node itself
    # does not (NODE_ONLY below), or it would only agree with the kiosk's own mistakes.
    "refnode": {"base", "pexip"},
    "ui": {"base", "config", "session", "engine"},
    "cli": _ALL,
    "__init__": set(),
    "__main__": {"cli"},
}
NODE_ONLY = {"server.py", "room.py", "direct.py", "personality.py", "tracks.py"}

# The state machine takes events and returns commands: no clock, no network, no files,
# no threads, no randomness of its own.
SESSION_FORBIDDEN = {
    "asyncio", "time", "datetime", "socket", "selectors", "ssl", "os", "subprocess",
    "threading", "multiprocessing", "concurrent", "pathlib", "io", "shutil", "tempfile",
    "signal", "random", "secrets", "urllib", "http", "logging",
    "aiohttp", "aiortc", "av", "cv2", "numpy", "sounddevice", "kivy", "pyzbar",
}  # fmt: skip


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # fully resolved, e.g. "kiosk.media.call" or "asyncio"


def _module_name(root: Path, path: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(root: Path, path: Path) -> list[Import]:
    """Every module `path` imports, resolved against the package it lives in."""
    tree = ast.parse(path.read_text(), filename=str(path))
    own = _module_name(root, path)
    package = own if path.name == "__init__.py" else own[:-1]
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                stem = ".".join([*base, *([node.module] if node.module else [])])
            else:
                stem = node.module or ""
            found.append(Import(path, node.lineno, stem))
            # `from kiosk import ui` / `from . import call`: the names may be modules.
            for alias in node.names:
                candidate = root.parent.joinpath(*stem.split("."), alias.name)
                if candidate.is_dir() or candidate.with_suffix(".py").exists():
                    found.append(Import(path, node.lineno, f"{stem}.{alias.name}"))
    return found


def violations(root: Path) -> list[str]:
    problems: dict[str, None] = {}  # one line per problem, in order
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        package = rel.parts[0].removesuffix(".py")
        where = f"{root.name}/{rel}"
        if package not in ALLOWED:
            _add(problems, f"{where}: package {package} has no rule")
            continue
        for imp in imports_of(root, path):
            parts = imp.module.split(".")
            if parts[0] == "kivy" and package != "ui":
                _add(problems, f"{where}:{imp.line} imports kivy outside ui")
            if package == "session" and parts[0] in SESSION_FORBIDDEN:
                _add(problems, f"{where}:{imp.line} session imports {parts[0]} (I/O or clock)")
            if parts[0] != root.name or len(parts) < 2:
                continue
            target = parts[1]
            if target != package and target not in ALLOWED[package]:
                _add(problems, f"{where}:{imp.line}: {package} -> {target}")
            if package == "refnode" and rel.name in NODE_ONLY and target == "pexip":
                _add(problems, f"{where}:{imp.line}: the node itself imports the client")
    return list(problems)


def _add(problems: dict[str, None], problem: str) -> None:
    problems[problem] = None


def test_every_package_has_a_rule() -> None:
    packages = {p.relative_to(ROOT).parts[0].removesuffix(".py") for p in ROOT.rglob("*.py")}
    assert packages <= set(ALLOWED), f"add a rule for: {sorted(packages - set(ALLOWED))}"


def test_the_kiosk_imports_one_way() -> None:
    assert violations(ROOT) == []


PLANTED = {
    "kivy outside ui": ("checks/planted.py", "import kivy.uix.label\n"),
    "I/O in session": ("session/planted.py", "def later():\n    import asyncio\n"),
    "clock in session": ("session/planted.py", "from time import monotonic\n"),
    "media importing pexip": ("media/planted.py", "from kiosk.pexip import client\n"),
    "upward, relative": ("engine/planted.py", "from ..ui import app\n"),
    "upward, from kiosk import": ("devices/planted.py", "from kiosk import engine\n"),
    "upward, from the package": ("pexip/planted.py", "from kiosk.engine import consultation\n"),
    "node sharing the client": ("refnode/room.py", "from kiosk.pexip import events\n"),
}


@pytest.mark.parametrize("kind", list(PLANTED))
def test_a_planted_violation_is_found(tmp_path: Path, kind: str) -> None:
    tree = tmp_path / "kiosk"
    shutil.copytree(ROOT, tree, ignore=shutil.ignore_patterns("__pycache__"))
    assert violations(tree) == []
    relative, source = PLANTED[kind]
    target = tree / relative
    target.write_text(target.read_text() + "\n" + source if target.exists() else source)
    found = violations(tree)
    assert len(found) == 1 and found[0].startswith(f"kiosk/{relative}:"), found
