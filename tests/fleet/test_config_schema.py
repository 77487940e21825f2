from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import ConfigError, KioskConfig, TurnServer, config_from_text, load_config

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
