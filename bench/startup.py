"""Cold start: from process start to the start screen drawn (the app's `on_first_frame`).

Five fresh processes, each running the real app on a real Engine with the synthetic camera,
under an Xvfb this benchmark starts itself. Prints the median and where the time goes:
interpreter start, imports (engine side, then kivy with its window), the engine's devices,
and the app's build up to the first drawn frame; and each process's CPU time, which other
work on the machine disturbs less than the wall clock. Measures, never asserts.

    .venv/bin/python bench/startup.py [--runs 5]
"""

from __future__ import annotations

import time

STARTED = time.time()  # before any other import: the child's own clock starts here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT))

MARK = "startup:"


def child() -> None:
    """One cold start; prints the wall-clock marks as JSON after the first frame."""
    import asyncio

    marks: dict[str, float] = {"python_ready": STARTED}
    from kiosk.cli.wiring import running_engine
    from kiosk.config import KioskConfig

    marks["engine_imported"] = time.time()
    from kiosk.ui.app import KioskApp  # imports kivy and opens the window

    marks["window_open"] = time.time()

    async def run() -> None:
        config = KioskConfig(camera="synthetic")
        # As the terminal starts: what the start screen does not need is imported only
        # once it is drawn, when this run ends.
        async with running_engine(config, preload=False) as engine:
            marks["engine_started"] = time.time()
            app = KioskApp(engine)

            def first_frame() -> None:
                marks["first_frame"] = time.time()
                app.stop()

            app.on_first_frame = first_frame
            await app.async_run(async_lib="asyncio")

    asyncio.run(run())
    print(MARK + json.dumps(marks), flush=True)


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    from tests.support.xvfb import start_xvfb as start

    return start()


def one_run(display: str, kivy_home: str) -> dict[str, float]:
    env = {
        **os.environ,
        "DISPLAY": display,
        "KIVY_HOME": kivy_home,
        "KIVY_NO_CONSOLELOG": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    spawned = time.time()
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"expected a cold start to report its marks (exit {done.returncode}): "
            f"{done.stderr.strip()[-1500:]}"
        )
    marks: dict[str, float] = json.loads(lines[-1][len(MARK) :])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "cold_start_s": marks["first_frame"] - spawned,
        # the whole child, to its exit just after the first frame: less disturbed by load
        "cpu_s": cpu,
        "interpreter_s": marks["python_ready"] - spawned,
        "engine_imports_s": marks["engine_imported"] - marks["python_ready"],
        "kivy_imports_and_window_s": marks["window_open"] - marks["engine_imported"],
        "engine_devices_s": marks["engine_started"] - marks["window_open"],
        "build_to_first_frame_s": marks["first_frame"] - marks["engine_started"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return
    from _common import emit, median

    process, display = start_xvfb()
    runs: list[dict[str, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-bench-kivy-") as kivy_home:
            one_run(display, kivy_home)  # warms the disk cache and Kivy's own first-run files
            for index in range(args.runs):
                run = one_run(display, kivy_home)
                print(f"run {index + 1}: {run['cold_start_s']:.3f} s", flush=True)
                runs.append(run)
    finally:
        process.terminate()
        process.wait(timeout=10)
    result: dict[str, Any] = {
        "benchmark": "startup",
        "cold_start_s": median([r["cold_start_s"] for r in runs]),
        "cold_start_s_runs": [round(r["cold_start_s"], 3) for r in runs],
        "budget_s": 1.5,
        "camera": "synthetic",
        "screen": "Xvfb 1920x1080, window 800x600 (Kivy default)",
    }
    for key in runs[0]:
        if key != "cold_start_s":
            result[f"median_{key}"] = median([r[key] for r in runs])
    emit(result)


if __name__ == "__main__":
    main()
