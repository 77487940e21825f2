"""Read systemd-style settings as systemd would, from a root tree (the live system or a copy).

Covers what the audit needs: unit files with drop-ins, manager/logind configuration with
drop-ins, masking and enablement symlinks, sysctl.d and modprobe.d, and time spans.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

UNIT_DIRS = (
    "etc/systemd/system",
    "run/systemd/system",
    "usr/local/lib/systemd/system",
    "usr/lib/systemd/system",
    "lib/systemd/system",
)
TRUE = frozenset({"1", "yes", "true", "on"})


class Root:
    """A filesystem root; '/' means the running system, whose live values are also checked."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def is_live(self) -> bool:
        return self.path.resolve() == Path("/")

    def __truediv__(self, rel: str) -> Path:
        return self.path / rel.lstrip("/")

    def read(self, rel: str) -> str | None:
        try:
            return (self / rel).read_text(errors="replace")
        except OSError:
            return None


@dataclass
class Settings:
    """Assignments per `Section.Key`, in the order systemd applies them."""

    values: dict[str, list[str]] = field(default_factory=dict)
    sources: list[Path] = field(default_factory=list)

    def add(self, section: str, key: str, value: str) -> None:
        self.values.setdefault(f"{section}.{key}", []).append(value)

    def last(self, section: str, key: str) -> str | None:
        found = self.values.get(f"{section}.{key}")
        return found[-1] if found else None

    def items(self, section: str, key: str) -> list[str]:
        """A list setting: words of every assignment after the last empty (resetting) one."""
        found = self.values.get(f"{section}.{key}", [])
        words: list[str] = []
        for value in found:
            if value == "":
                words = []
            else:
                words.extend(value.split())
        return words

    def lines(self, section: str, key: str) -> list[str]:
        """Like `items`, keeping each assignment whole (DeviceAllow=char-drm rw)."""
        kept: list[str] = []
        for value in self.values.get(f"{section}.{key}", []):
            kept = [] if value == "" else [*kept, value]
        return kept

    def is_true(self, section: str, key: str) -> bool:
        value = self.last(section, key)
        return value is not None and value.lower() in TRUE


def parse_ini(text: str, into: Settings) -> None:
    section = ""
    pending = ""
    for raw in text.splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        if sep:
            into.add(section, key.strip(), value.strip())


def _dropins(root: Root, dirs: Iterable[str]) -> list[Path]:
    # Same file name in several directories: the first directory listed wins.
    chosen: dict[str, Path] = {}
    for d in dirs:
        base = root / d
        if base.is_dir():
            for p in base.glob("*.conf"):
                chosen.setdefault(p.name, p)
    return [chosen[name] for name in sorted(chosen)]


def read_settings(root: Root, main: str, dropin_dirs: Iterable[str]) -> Settings:
    settings = Settings()
    for path in [root / main, *_dropins(root, dropin_dirs)]:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        settings.sources.append(path)
        parse_ini(text, settings)
    return settings


def manager_settings(root: Root, name: str) -> Settings:
    """systemd's own configuration files: name is 'system', 'logind'..."""
    dirs = [f"{d}/systemd/{name}.conf.d" for d in ("etc", "run", "usr/local/lib", "usr/lib")]
    return read_settings(root, f"etc/systemd/{name}.conf", dirs)


def find_unit(root: Root, unit: str) -> Path | None:
    for d in UNIT_DIRS:
        path = root / f"{d}/{unit}"
        if path.is_symlink() or path.exists():
            return path
    return None


def unit_settings(root: Root, unit: str) -> Settings | None:
    path = find_unit(root, unit)
    if path is None or is_masked(root, unit):
        return None
    rel = str(path.relative_to(root.path))
    return read_settings(root, rel, [f"{d}/{unit}.d" for d in UNIT_DIRS])


def is_masked(root: Root, unit: str) -> bool:
    for d in ("etc/systemd/system", "run/systemd/system"):
        path = root / f"{d}/{unit}"
        if path.is_symlink() and os.readlink(path) == "/dev/null":
            return True
    return False


def enabled_in(root: Root, unit: str) -> list[str]:
    """The targets whose .wants/ or .requires/ hold `unit`."""
    found: list[str] = []
    for d in ("etc/systemd/system", "run/systemd/system", "usr/lib/systemd/system"):
        base = root / d
        if not base.is_dir():
            continue
        for sub in sorted(base.iterdir()):
            if sub.suffix in (".wants", ".requires") and (sub / unit).is_symlink():
                found.append(sub.stem)
    return found


def sysctl_value(root: Root, key: str) -> str | None:
    """The value systemd-sysctl would set for `key` (dots or slashes), or None."""
    wanted = key.replace("/", ".")
    files = _dropins(
        root, ("etc/sysctl.d", "run/sysctl.d", "usr/local/lib/sysctl.d", "usr/lib/sysctl.d")
    )
    files.append(root / "etc/sysctl.conf")
    value: str | None = None
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line[0] in "#;":
                continue
            name, sep, val = line.lstrip("-").partition("=")
            if sep and name.strip().replace("/", ".") == wanted:
                value = val.strip()
    return value


def modprobe_lines(root: Root) -> list[list[str]]:
    files = _dropins(
        root, ("etc/modprobe.d", "run/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d")
    )
    words: list[list[str]] = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        words.extend(
            line.split()
            for line in text.splitlines()
            if line.split() and not line.lstrip().startswith("#")
        )
    return words


_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*(us|ms|seconds?|sec|s|minutes?|min|m|hours?|hr|h)?")
_UNIT_S = {
    "us": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
}


def timespan_s(text: str | None) -> float | None:
    """'15', '15s', '1min 30s' in seconds; None for 'off', 'default' or anything else."""
    if text is None:
        return None
    rest = text.strip().lower()
    if not rest or not rest[0].isdigit():
        return None
    total = 0.0
    pos = 0
    for match in _SPAN.finditer(rest):
        if rest[pos : match.start()].strip():
            return None
        total += float(match.group(1)) * _UNIT_S[match.group(2) or "s"]
        pos = match.end()
    return total if not rest[pos:].strip() else None
