"""The terminal's configuration directory, written only by the pull and always atomically.

Files: ``enrolment.json`` (who this terminal is and whom it trusts), ``kiosk.toml`` (what the
app reads), ``bundle.json`` (the signed bundle it came from, for the version), and the
``.previous`` copies of the last two for going back by hand, and ``highest_version`` (the
highest bundle version ever accepted, kept apart so rollback stays refused if bundle.json is
damaged or removed).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kiosk.fleet.bundle import VerifiedBundle
from kiosk.fleet.enrolment import Enrolment, EnrolmentError, enrolment_from_json

log = logging.getLogger(__name__)

ENROLMENT = "enrolment.json"
CONFIG = "kiosk.toml"
BUNDLE = "bundle.json"
# The highest version ever accepted, apart from the bundle, so damage to bundle.json cannot
# let an older signed bundle back in.
HIGHEST_VERSION = "highest_version"
SIGNER_KEY = "signer.pub"


def write_atomically(path: Path, data: bytes, mode: int = 0o640, group: str | None = None) -> None:
    """Readers see the old file or the new one, never a part, even across a power cut."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if group is not None:
            shutil.chown(tmp, group=group)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@dataclass(frozen=True)
class ConfigStore:
    directory: Path
    group: str | None = None

    @property
    def config_path(self) -> Path:
        return self.directory / CONFIG

    def enrolment(self) -> Enrolment | None:
        path = self.directory / ENROLMENT
        if not path.exists():
            return None
        return enrolment_from_json(path.read_text(encoding="utf-8"))

    def require_enrolment(self) -> Enrolment:
        enrolment = self.enrolment()
        if enrolment is None:
            raise EnrolmentError(
                f"expected {ENROLMENT} in {self.directory.name}/: this terminal is not enrolled"
            )
        return enrolment

    def save_enrolment(self, enrolment: Enrolment) -> None:
        write_atomically(self.directory / ENROLMENT, enrolment.to_json().encode(), 0o644)

    def pinned_public_key(self) -> str | None:
        """The signer key installed by provisioning, if any; bundles must carry exactly it."""
        path = self.directory / SIGNER_KEY
        return path.read_text(encoding="ascii").strip() if path.exists() else None

    def current_bundle(self) -> bytes | None:
        path = self.directory / BUNDLE
        return path.read_bytes() if path.exists() else None

    def current_version(self) -> int | None:
        """The highest version accepted so far, from the bundle and the separate record."""
        versions = [v for v in (self._bundle_version(), self._highest_recorded()) if v is not None]
        return max(versions) if versions else None

    def _bundle_version(self) -> int | None:
        raw = self.current_bundle()
        if raw is None:
            return None
        try:
            version = json.loads(raw)["payload"]["version"]
        except (ValueError, KeyError, TypeError, RecursionError):
            version = None
        if not isinstance(version, int) or isinstance(version, bool):
            # Written only after verification, so this is disk damage; the separate record
            # still holds the line against older bundles.
            log.warning(
                "%s is damaged; only versions above the recorded highest are accepted", BUNDLE
            )
            return None
        return version

    def _highest_recorded(self) -> int | None:
        path = self.directory / HIGHEST_VERSION
        try:
            text = path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError):
            log.warning("%s is unreadable", HIGHEST_VERSION)
            return None
        if not text.isdigit() or len(text) > 18:
            log.warning("%s is damaged", HIGHEST_VERSION)
            return None
        return int(text)

    def apply(self, bundle: VerifiedBundle, terminal: str) -> None:
        """Install a verified bundle; the old files become the .previous copies."""
        for name in (CONFIG, BUNDLE):
            path = self.directory / name
            if path.exists():
                write_atomically(
                    path.with_name(name + ".previous"), path.read_bytes(), 0o640, self.group
                )
        write_atomically(
            self.config_path, terminal_config_text(bundle, terminal), 0o640, self.group
        )
        highest = max(bundle.payload.version, self._highest_recorded() or 0)
        # Recorded before the bundle, so no crash between the two can leave a lower record.
        write_atomically(
            self.directory / HIGHEST_VERSION, f"{highest}\n".encode(), 0o640, self.group
        )
        write_atomically(self.directory / BUNDLE, bundle.raw, 0o640, self.group)


def terminal_config_text(bundle: VerifiedBundle, terminal: str) -> bytes:
    """The bundle's TOML for the whole site, with this terminal's name put first unless the
    bundle names it (top-level keys must precede the first table)."""
    text = bundle.payload.config
    if "terminal" in tomllib.loads(text):
        return text.encode("utf-8")
    return (f"terminal = {json.dumps(terminal)}\n" + text).encode("utf-8")
