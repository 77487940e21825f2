"""The terminal's configuration: one TOML file, read once at start and whenever IT pushes a
new signed bundle (applied only between sessions)."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")


class ConfigError(ValueError):
    """The configuration is not usable; the message names the key and the problem."""


@dataclass(frozen=True)
class TurnServer:
    url: str
    username: str = ""
    credential: str = ""


@dataclass(frozen=True)
class KioskConfig:
    site: str = "demo"
    terminal: str = "kiosk"
    # Where the kiosk knocks: the Pexip conferencing node (or its reverse proxy).
    node_url: str = "https://join.nhn.no"
    # The only hosts the kiosk ever talks to for a consultation (QR codes included).
    allowed_hosts: tuple[str, ...] = ("join.nhn.no",)
    clinic_name: str = "Poliklinikken"
    clinic_phone: str = ""
    # What the clinician sees as the patient's name unless a nurse types one.
    display_name: str = "Pasient"
    languages: tuple[str, ...] = ("nb", "nn", "en", "se")
    default_language: str = "nb"
    nurse_pin_hash: str = ""
    maintenance_pin_hash: str = ""
    turn_servers: tuple[TurnServer, ...] = ()
    # Camera: "" picks the first V4L2 camera, "synthetic" a generated scene, or a path/name.
    camera: str = ""
    microphone: str = ""
    speaker: str = ""
    fullscreen: bool = False
    lobby_limit_s: float = 900.0
    ended_return_s: float = 15.0
    number_idle_s: float = 90.0
    reconnect_give_up_s: float = 120.0

    def __post_init__(self) -> None:
        if self.default_language not in self.languages:
            raise ConfigError(
                f"default_language must be one of {list(self.languages)} "
                f"(got {self.default_language!r})"
            )
        if not self.node_url.startswith(("https://", "http://")):
            raise ConfigError(f"node_url must be an https:// URL (got {self.node_url!r})")
        for name in ("lobby_limit_s", "ended_return_s", "number_idle_s", "reconnect_give_up_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds")


def config_from_mapping(data: dict[str, Any]) -> KioskConfig:
    known = {f.name: f for f in dataclasses.fields(KioskConfig)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key == "turn_servers":
            try:
                values[key] = tuple(TurnServer(**item) for item in value)
            except TypeError as exc:
                raise ConfigError(f"turn_servers: each entry needs url (got {value!r})") from exc
        elif isinstance(value, list):
            values[key] = tuple(value)
        else:
            values[key] = value
    try:
        return KioskConfig(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc


def load_config(path: Path | None = None) -> KioskConfig:
    """Read the TOML file named by `path`, `$KIOSK_CONFIG` or the default path; defaults if
    none exists."""
    path = path or Path(os.environ.get("KIOSK_CONFIG", DEFAULT_PATH))
    if not path.exists():
        return KioskConfig()
    with path.open("rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path.name} is not valid TOML: {exc}") from exc
    return config_from_mapping(data)


def with_overrides(config: KioskConfig, **changes: Any) -> KioskConfig:
    return dataclasses.replace(config, **changes)


__all__ = [
    "DEFAULT_PATH",
    "ConfigError",
    "KioskConfig",
    "TurnServer",
    "config_from_mapping",
    "load_config",
    "with_overrides",
]
