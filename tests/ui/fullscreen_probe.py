"""Run by test_display_size.py in a process of its own, on a virtual display the size of a
panel: the kiosk full screen as a terminal starts it. Prints the window's size and what the
layout check found as one JSON object."""

from __future__ import annotations

import asyncio
import json
import sys


async def main() -> dict[str, object]:
    from kivy.core.window import Window

    from kiosk.ui.app import KioskApp
    from tests.ui.layout_check import layout_defects
    from tests.ui.scripted_engine import ScriptedEngine

    display = tuple(int(v) for v in sys.argv[1].split("x"))
    app = KioskApp(ScriptedEngine(), fullscreen=True)
    first = asyncio.Event()
    app.on_first_frame = first.set
    task = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    try:
        await asyncio.wait_for(first.wait(), 60)
        for _ in range(200):
            if tuple(Window.size) == display:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a few frames at the new size
        size = tuple(int(v) for v in Window.size)
        defects = layout_defects([app.root], (size[0], size[1]), "start screen")
        return {
            "window": list(size),
            "fullscreen": Window.fullscreen,
            "portrait": bool(app.sizes.portrait),
            "compact": bool(app.sizes.compact),
            "start_button": [round(v) for v in app.root.ids.screens.current_screen.ids.start.size],
            "defects": [str(d) for d in defects],
        }
    finally:
        app.stop()
        await asyncio.wait_for(task, 10)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())), flush=True)
