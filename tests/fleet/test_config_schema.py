from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from kiosk.config import (
    ConfigError,
    ConfigMalformed,
    KioskConfig,
    TurnServer,
    config_from_text,
    load_config,
)

from .conftest import site_toml


def test_a_full_site_file_loads_with_its_types(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(site_toml() + 'credential = "s3cret"\n')
    config = load_config(path)
    assert config.site == "tromso-helsestasjon"
    assert config.turn_servers == (TurnServer("turns:turn.example.org:443", "kiosk", "s3cret"),)
    assert config.allowed_hosts == ("join.nhn.no",)
    assert load_config(tmp_path / "missing.toml") == KioskConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("site = 5", "site: expected a string, got int 5"),
        ("fullscreen = 'yes'", "fullscreen: expected true or false, got str 'yes'"),
        ("read_aloud = 1", "read_aloud: expected true or false, got int 1"),
        ("lobby_limit_s = true", "lobby_limit_s: expected a number of seconds, got bool True"),
        ("lobby_limit_s = 0", "lobby_limit_s must be a positive number of seconds"),
        ("management_port = 9.5", "management_port: expected a whole number, got float 9.5"),
        ("management_port = 70000", "management_port must be 1-65535"),
        ("languages = 'nb'", "languages: expected a list of strings, got str 'nb'"),
        ("languages = ['nb', 2]", "languages: expected a list of strings"),
        ("default_language = 'de'", "default_language must be one of"),
        ("colour = 'red'", "unknown configuration key(s): colour"),
        ("site = 'Oslo Sentrum'", "site must be 1-63 lower-case"),
        ("allowed_hosts = []", "allowed_hosts must name at least one host"),
        (
            "node_url = 'https://evil.example'",
            "node_url host 'evil.example' must be in allowed_hosts",
        ),
        ("turn_servers = 'x'", "turn_servers: expected a list of [[turn_servers]] tables"),
        ("[[turn_servers]]\nusername = 'a'", "turn_servers[0]: url is missing"),
        ("[[turn_servers]]\nurl = 'http://x'", "turn_servers[0].url must start with turn:"),
        ("[[turn_servers]]\nurl = 'turn:x'\nport = 1", "turn_servers[0]: unknown key(s) port"),
        (
            "[[turn_servers]]\nurl = 'turn:x'\nusername = 1",
            "turn_servers[0].username: expected a string",
        ),
        ("site = ", "configuration is not valid TOML"),
    ],
)
def test_each_problem_names_the_key_what_was_expected_and_what_came(
    text: str, message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_text(text)
    assert message in str(info.value)


def test_code_may_still_build_a_config_for_a_local_node() -> None:
    config = KioskConfig(node_url="http://127.0.0.1:8080", allowed_hosts=("127.0.0.1",))
    assert config.node_url.startswith("http://")


def _hash(n: int = 2**14, r: int = 8, p: int = 1, salt: bytes = b"s" * 16) -> str:
    # The digest's bytes are never checked at load, only its parameters and lengths.
    digest = hashlib.sha256(salt).digest()
    b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
    return f"scrypt${n}${r}${p}${b64(salt)}${b64(digest)}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        *[
            (f"{key} = {value}", f"{key} must be")
            for key in ("lobby_limit_s", "ended_return_s", "number_idle_s", "reconnect_give_up_s")
            for value in ("nan", "inf", "-inf", "1e300", "-5")
        ],
        ("lobby_auto_knocks = 1000000", "lobby_auto_knocks must be"),
        ("node_url = 'http://join.nhn.no'", "node_url must be an https:// URL"),
        ("node_url = 'https://'", "node_url must name a host"),
        ("allowed_hosts = ['*.nhn.no', 'join.nhn.no']", "allowed_hosts: '*.nhn.no' is not"),
        ("allowed_hosts = ['join.nhn.no', '']", "allowed_hosts: '' is not"),
        ("allowed_hosts = ['join.nhn.no', 'a b']", "allowed_hosts: 'a b' is not"),
        ("nurse_pin_hash = 'plain-text-pin'", "nurse_pin_hash: expected scrypt$n$r$p$salt$hash"),
        (f"nurse_pin_hash = '{_hash(n=2**14 + 1)}'", "nurse_pin_hash: n must be a power of two"),
        (f"maintenance_pin_hash = '{_hash(n=2**4)}'", "maintenance_pin_hash: n must be"),
        (f"maintenance_pin_hash = '{_hash(n=2**20, r=8)}'", "maintenance_pin_hash: "),
        (f"nurse_pin_hash = '{_hash(p=64)}'", "nurse_pin_hash: p must be"),
        (f"nurse_pin_hash = '{_hash(salt=b'x')}'", "nurse_pin_hash: the salt must be"),
        ("x = " + "[" * 5000 + "]" * 5000, "malformed"),
        ("site = '" + "a" * 300_000 + "'", "malformed"),
    ],
)
def test_hostile_values_are_refused_at_load(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from_text(text)
    assert message in str(info.value)


def test_depth_and_size_abuse_is_a_malformed_error() -> None:
    with pytest.raises(ConfigMalformed):
        config_from_text("x = " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigMalformed):
        config_from_text("x = " + "{a = " * 3000 + "1" + "}" * 3000)


def test_a_ca_file_that_cannot_be_read_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text(f"ca_file = '{tmp_path / 'missing.pem'}'\n")
    with pytest.raises(ConfigError, match=r"ca_file .*missing.pem.* cannot be read"):
        load_config(path)
    (tmp_path / "missing.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_config(path).ca_file.endswith("missing.pem")


def test_sane_values_at_the_edges_load() -> None:
    config = config_from_text(
        f"lobby_limit_s = 3600\nnurse_pin_hash = '{_hash()}'\n"
        "node_url = 'http://127.0.0.1:8080'\nallowed_hosts = ['127.0.0.1']\n"
    )
    assert config.lobby_limit_s == 3600.0


def test_read_aloud_is_off_unless_the_site_turns_it_on() -> None:
    assert KioskConfig().read_aloud is False
    assert config_from_text("read_aloud = true\n" + site_toml()).read_aloud is True
