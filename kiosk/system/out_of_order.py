"""The out-of-order screen: plain text on the VT when the kiosk app keeps failing.

Run by kiosk-out-of-order.service with the VT as stdout. It uses only the text console and
the standard library, so it still works when the GPU, Kivy or the configuration broke.
`python -m kiosk.system.out_of_order` paints the screen and repaints it every minute.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import tomllib
from pathlib import Path
from typing import TextIO

from kiosk.config import ConfigError, load_config

log = logging.getLogger(__name__)

# Clear the screen, hide the cursor, switch off console blanking (setterm's escapes).
CLEAR = "\033[2J\033[H\033[?25l\033[9;0]"
REPAINT_S = 60.0


def clinic_phone(path: Path | None = None) -> str:
    """The clinic's number from the configuration; "" when it cannot be read at all.

    A configuration the app rejects (perhaps why it failed) may still name the number.
    """
    try:
        return load_config(path).clinic_phone
    except (ConfigError, OSError):
        pass
    path = path or Path(os.environ.get("KIOSK_CONFIG", "/etc/kiosk/kiosk.toml"))
    try:
        with path.open("rb") as fh:
            value = tomllib.load(fh).get("clinic_phone", "")
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return value if isinstance(value, str) else ""


def screen_text(phone: str) -> str:
    """The message in bokmål and English, with the number when there is one."""
    if phone:
        call_nb = f"Ring klinikken på {phone}."
        call_en = f"Please call the clinic on {phone}."
    else:
        call_nb = "Spør i resepsjonen eller ring klinikken."
        call_en = "Please ask at the reception or call the clinic."
    lines = [
        "",
        "  UTE AV DRIFT",
        "",
        "  Denne skjermen virker ikke akkurat nå.",
        f"  {call_nb}",
        "",
        "  OUT OF ORDER",
        "",
        "  This terminal is not working right now.",
        f"  {call_en}",
        "",
    ]
    return "\n".join(lines)


def paint(out: TextIO, phone: str) -> None:
    out.write(CLEAR + screen_text(phone))
    out.flush()


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    stream = out or sys.stdout
    once = "--once" in args
    while True:
        paint(stream, clinic_phone())
        if once:
            return 0
        time.sleep(REPAINT_S)


if __name__ == "__main__":
    raise SystemExit(main())
