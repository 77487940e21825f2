"""The terminal's configuration: one TOML file, read once at start and whenever IT pushes a
new signed bundle (applied only between sessions).

Every key is checked for its type and range; a problem is reported as a `ConfigError` whose
message names the key, what was expected and what came.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.base.hosts import is_loopback_host
from kiosk.base.pins import MIN_N, PinHashError, parse_pin_hash

DEFAULT_PATH = Path("/etc/kiosk/kiosk.toml")

# Site and terminal names end up in metric labels, file names and URLs: keep them plain.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{0,62}")


class ConfigError(ValueError):
    """The configuration is not usable; the message names the key and the problem."""


class ConfigMalformed(ConfigError):
    """The text is not a configuration at all: too large, nested too deep, not TOML."""


# A site's file is a few kB; a bundle carries at most 256 kB in all.
MAX_CONFIG_CHARS = 128 * 1024
# Sane ranges: a timer of nan or 1e300 s is as broken as a negative one.
NUMBER_BOUNDS: dict[str, tuple[float, float]] = {
    "lobby_limit_s": (10.0, 4 * 3600.0),
    "ended_return_s": (1.0, 600.0),
    "number_idle_s": (5.0, 3600.0),
    "reconnect_give_up_s": (1.0, 3600.0),
    "lobby_auto_knocks": (0, 20),
    "management_port": (1, 65535),
    "camera_width": (160, 1920),
    "camera_height": (120, 1080),
    "camera_fps": (5, 30),
}
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*"
)


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
    # A PEM bundle of extra CAs to trust (a hospital's own); the system's CAs stay trusted.
    ca_file: str = ""
    # A six-digit room IT keeps for test calls from the maintenance screen ("" for none).
    test_room: str = ""
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
    # What the camera is asked for. 1280x720 lets the clinician read an ID card and a fast
    # terminal send a sharp picture; the kiosk takes whatever size the camera really gives.
    camera_width: int = 1280
    camera_height: int = 720
    camera_fps: int = 30
    microphone: str = ""
    speaker: str = ""
    # A speakerphone that cancels its own echo: leave PulseAudio's canceller out.
    echo_cancel_bypass: bool = False
    fullscreen: bool = False
    # Spoken guidance on by default for every patient (each can still turn it off).
    read_aloud: bool = False
    lobby_limit_s: float = 900.0
    ended_return_s: float = 15.0
    number_idle_s: float = 90.0
    reconnect_give_up_s: float = 120.0
    # After the node's waiting-for-host timeout, knock again by itself this many times.
    lobby_auto_knocks: int = 2
    # Management plane: Prometheus metrics and the local control socket. Loopback by default:
    # the site's monitoring reaches it through whatever the network team allows.
    management_host: str = "127.0.0.1"
    management_port: int = 9101
    ctl_socket: str = "/run/kiosk/ctl.sock"

    def __post_init__(self) -> None:
        if self.default_language not in self.languages:
            raise ConfigError(
                f"default_language must be one of {list(self.languages)} "
                f"(got {self.default_language!r})"
            )
        if not self.node_url.startswith(("https://", "http://")):
            raise ConfigError(f"node_url must be an https:// URL (got {self.node_url!r})")
        for name in ("lobby_limit_s", "ended_return_s", "number_idle_s", "reconnect_give_up_s"):
            if not 0 < getattr(self, name) < math.inf:
                raise ConfigError(f"{name} must be a positive number of seconds")
        if self.lobby_auto_knocks < 0:
            raise ConfigError(f"lobby_auto_knocks must be 0 or more (got {self.lobby_auto_knocks})")
        if not 0 < self.management_port < 65536:
            raise ConfigError(f"management_port must be 1-65535 (got {self.management_port})")


def validate_config(config: KioskConfig) -> KioskConfig:
    """The checks a file from IT must pass on top of the types (code may build looser ones)."""
    for name in ("site", "terminal"):
        if not NAME_PATTERN.fullmatch(getattr(config, name)):
            raise ConfigError(
                f"{name} must be 1-63 lower-case letters, digits, '.', '_' or '-' "
                f"(got {getattr(config, name)!r})"
            )
    for name, (low, high) in NUMBER_BOUNDS.items():
        value = getattr(config, name)
        if not low <= value <= high:  # false for nan too
            raise ConfigError(f"{name} must be between {low:g} and {high:g} (got {value!r})")
    parts = urlsplit(config.node_url)
    if not parts.hostname:
        raise ConfigError(f"node_url must name a host (got {config.node_url!r})")
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"node_url must be an https:// URL off loopback (got scheme {parts.scheme!r})"
        )
    for host in config.allowed_hosts:
        if not _is_host_name(host):
            raise ConfigError(
                f"allowed_hosts: {host!r} is not a host name or address (no wildcards)"
            )
    for name in ("nurse_pin_hash", "maintenance_pin_hash"):
        if getattr(config, name):
            try:
                parse_pin_hash(getattr(config, name), min_n=MIN_N)
            except PinHashError as exc:
                raise ConfigError(f"{name}: {exc}") from None
    if config.test_room and not (len(config.test_room) == 6 and config.test_room.isdigit()):
        raise ConfigError(f"test_room must be six digits or empty (got {config.test_room!r})")
    if not config.allowed_hosts:
        raise ConfigError("allowed_hosts must name at least one host (got an empty list)")
    host = urlsplit(config.node_url).hostname or ""
    if host not in config.allowed_hosts:
        raise ConfigError(
            f"node_url host {host!r} must be in allowed_hosts {list(config.allowed_hosts)}"
        )
    for index, turn in enumerate(config.turn_servers):
        if not turn.url.startswith(("turn:", "turns:", "stun:")):
            raise ConfigError(
                f"turn_servers[{index}].url must start with turn:, turns: or stun: "
                f"(got {turn.url!r})"
            )
    return config


def _is_host_name(host: str) -> bool:
    if _HOST_NAME.fullmatch(host):
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


_FIELD_TYPES: dict[str, str] = {f.name: str(f.type) for f in dataclasses.fields(KioskConfig)}


def _describe(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


def _check_value(key: str, kind: str, value: object) -> Any:
    """Convert one TOML value to the field's type, or say what was expected."""
    if kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {_describe(value)}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {_describe(value)}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {_describe(value)}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number of seconds, got {_describe(value)}")
        return float(value)
    if kind == "tuple[str, ...]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: expected a list of strings, got {_describe(value)}")
        return tuple(value)
    if kind == "tuple[TurnServer, ...]":
        return _turn_servers(key, value)
    raise AssertionError(f"no check for {key} of type {kind}")


def _turn_servers(key: str, value: object) -> tuple[TurnServer, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{key}: expected a list of [[{key}]] tables, got {_describe(value)}")
    servers = []
    allowed = {"url", "username", "credential"}
    for index, item in enumerate(value):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a table with url, got {_describe(item)}")
        unknown = sorted(set(item) - allowed)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}")
        if "url" not in item:
            raise ConfigError(f"{where}: url is missing")
        fields = {k: _check_value(f"{where}.{k}", "str", v) for k, v in item.items()}
        servers.append(TurnServer(**fields))
    return tuple(servers)


def config_from_mapping(data: dict[str, Any]) -> KioskConfig:
    unknown = sorted(set(data) - set(_FIELD_TYPES))
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)}")
    values = {key: _check_value(key, _FIELD_TYPES[key], value) for key, value in data.items()}
    return validate_config(KioskConfig(**values))


def config_from_text(text: str, source: str = "configuration") -> KioskConfig:
    """Parse and check TOML text (a file's or a signed bundle's)."""
    if len(text) > MAX_CONFIG_CHARS:
        raise ConfigMalformed(
            f"{source} is malformed: expected at most {MAX_CONFIG_CHARS} characters, "
            f"got {len(text)}"
        )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigMalformed(f"{source} is not valid TOML: {exc}") from exc
    except RecursionError:
        raise ConfigMalformed(
            f"{source} is malformed: nested far deeper than a configuration"
        ) from None
    return config_from_mapping(data)


def load_config(path: Path | None = None) -> KioskConfig:
    """Read the TOML file named by `path`, `$KIOSK_CONFIG` or the default path; defaults if
    none exists."""
    path = path or Path(os.environ.get("KIOSK_CONFIG", DEFAULT_PATH))
    if not path.exists():
        return KioskConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigMalformed(f"{path.name} is not UTF-8 text: {exc}") from exc
    config = config_from_text(text, path.name)
    if config.ca_file and not os.access(config.ca_file, os.R_OK):
        # Checked here, on the terminal, rather than in the bundle's text: IT signs elsewhere.
        raise ConfigError(f"ca_file {config.ca_file!r} cannot be read")
    return config


def with_overrides(config: KioskConfig, **changes: Any) -> KioskConfig:
    return dataclasses.replace(config, **changes)


__all__ = [
    "DEFAULT_PATH",
    "NAME_PATTERN",
    "ConfigError",
    "ConfigMalformed",
    "KioskConfig",
    "TurnServer",
    "config_from_mapping",
    "config_from_text",
    "load_config",
    "validate_config",
    "with_overrides",
]
