"""The packages of `kiosk` import one way (DESIGN.md §2); kivy stays inside kiosk/ui/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "kiosk"

# package -> the kiosk packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "config": {"base"},
    "session": {"base"},
    "pexip": {"base"},
    "devices": {"base"},
    "vision": {"base"},
    "media": {"base", "devices"},
    "checks": {"base", "devices", "vision"},
    "system": {"base", "config"},
    "fleet": {"base", "config", "session", "system"},
    "refnode": {"base", "pexip", "media", "devices", "vision"},
    "engine": {
        "base",
        "config",
        "session",
        "pexip",
        "media",
        "devices",
        "vision",
        "checks",
        "system",
        "fleet",
    },
    "ui": {"base", "config", "session", "engine", "vision"},
    "cli": {
        "base",
        "config",
        "session",
        "pexip",
        "media",
        "devices",
        "vision",
        "checks",
        "system",
        "fleet",
        "refnode",
        "engine",
        "ui",
    },
    "__init__": set(),
    "__main__": {"cli"},
}


def _package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_every_package_is_listed() -> None:
    packages = {_package_of(p) for p in ROOT.rglob("*.py")}
    assert packages <= set(ALLOWED), f"add a rule for: {sorted(packages - set(ALLOWED))}"


def test_kiosk_packages_import_one_way() -> None:
    problems = []
    for path in sorted(ROOT.rglob("*.py")):
        package = _package_of(path)
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] == "kivy" and package != "ui":
                problems.append(f"{path.relative_to(ROOT.parent)}:{line} imports kivy")
            if parts[0] != "kiosk" or len(parts) < 2:
                continue
            target = parts[1]
            if target != package and target not in ALLOWED[package]:
                problems.append(f"{path.relative_to(ROOT.parent)}:{line}: {package} -> {target}")
    assert problems == []


def test_the_checker_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("import kivy\nfrom kiosk.ui import app\n")
    assert [m for _, m in _imports(bad)] == ["kivy", "kiosk.ui"]
