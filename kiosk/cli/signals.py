"""SIGTERM and SIGINT end the kiosk cleanly; nothing else on the terminal can.

SDL turns these signals into a quit event, which reaches the window as a close request, and
the kiosk refuses every close request (a patient must not close it). So the signals are taken
away from SDL and handled on the asyncio loop: they stop the app, and the caller's teardown
then leaves the conference and closes the devices.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from typing import Protocol

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StoppableApp(Protocol):
    def stop(self, *largs: object) -> None: ...

    async def async_run(self, async_lib: str | None = None) -> None: ...


def keep_signals_from_sdl() -> None:
    """Before the first Kivy window: SDL then installs no handler of its own."""
    os.environ["SDL_NO_SIGNAL_HANDLERS"] = "1"


async def run_until_signal(
    app: StoppableApp, on_signal: Callable[[str], None] = lambda _name: None
) -> str | None:
    """Run the app until it stops; returns the name of the signal that stopped it, if any.
    `on_signal` runs first (e.g. to tell systemd STOPPING=1)."""
    loop = asyncio.get_running_loop()
    received: list[str] = []

    def handle(name: str) -> None:
        if received:
            return  # a second Ctrl+C while stopping changes nothing
        received.append(name)
        on_signal(name)
        app.stop()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, handle, sig.name)
    try:
        await app.async_run(async_lib="asyncio")
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)
    return received[0] if received else None
