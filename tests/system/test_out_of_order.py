"""The out-of-order screen: text on the console with the clinic's number, from any config."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.system.out_of_order import CLEAR, clinic_phone, main


@pytest.mark.parametrize(
    ("config", "phone"),
    [
        ('clinic_phone = "+47 22 11 00 00"\n', "+47 22 11 00 00"),
        # The app rejects this (unknown key), the screen still finds the number.
        ('clinic_phone = "22 11 00 00"\nbogus = 1\n', "22 11 00 00"),
        ("clinic_phone = [", ""),
        (None, ""),
    ],
)
def test_clinic_phone_from_any_config(tmp_path: Path, config: str | None, phone: str) -> None:
    path = tmp_path / "kiosk.toml"
    if config is not None:
        path.write_text(config)
    assert clinic_phone(path) == phone


def test_once_paints_both_languages_with_the_number(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('clinic_phone = "22 11 00 00"\n')
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.system.out_of_order", "--once"],
        capture_output=True,
        text=True,
        env=dict(os.environ, KIOSK_CONFIG=str(config)),
        timeout=20,
    )
    assert done.returncode == 0
    assert done.stdout.startswith(CLEAR)
    body = [ln.strip() for ln in done.stdout[len(CLEAR) :].splitlines() if ln.strip()]
    assert body == [
        "UTE AV DRIFT",
        "Denne skjermen virker ikke akkurat nå.",
        "Ring klinikken på 22 11 00 00.",
        "OUT OF ORDER",
        "This terminal is not working right now.",
        "Please call the clinic on 22 11 00 00.",
    ]


def test_without_a_number_it_still_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KIOSK_CONFIG", str(tmp_path / "none.toml"))
    out = io.StringIO()
    assert main(["--once"], out=out) == 0
    assert "Spør i resepsjonen eller ring klinikken." in out.getvalue()
    assert "Please ask at the reception or call the clinic." in out.getvalue()
