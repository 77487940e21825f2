"""What a two-way 640x480 call costs the terminal: the kiosk as the patient against Chromium as
the patient, on the same call to the same far end, one after the other in one run.

`python bench/call_cost.py [--seconds 60]`

The far end is the local conference node with its practitioner bot (640x480 moving pattern and
a tone) in its own process. The kiosk patient is the real engine with the synthetic 640x480
camera, in its own process; the Chromium patient is Debian's chromium (headless, fake camera
and microphone) on the node's web page, joined as a guest. Each is measured over the same
`--seconds` of call: CPU as user+system time of all its processes, memory as the sum of their
proportional set sizes (PSS, so shared pages are not counted twice) at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import emit  # noqa: E402

from tests.e2e.practitioner_page import chromium  # noqa: E402
from tests.support.pulse import start_pulse  # noqa: E402

ALIAS, HOST_PIN = "112358", "13213"

_KIOSK = """
import asyncio, sys, time
from kiosk.cli.demo import demo_config
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.session import events as ev
from kiosk.session.state import Phase

async def main(base_url, alias, seconds):
    config = demo_config(base_url, KioskConfig(camera="synthetic"))
    async with running_engine(config) as engine:
        engine.send(ev.Tap())
        for digit in alias:
            engine.send(ev.Digit(digit))
        engine.send(ev.SubmitNumber())
        await engine.wait_for(lambda s: s.checks is not None and s.checks.camera_ok, 30)
        engine.send(ev.Continue())
        await engine.wait_for(lambda s: s.phase is Phase.IN_CALL and s.remote_media, 60)
        await asyncio.sleep(3)  # settle: encoders up, jitter buffers filled
        print("CALL", flush=True)
        await asyncio.sleep(seconds)
        video, audio = engine.live_media_counts()
        print(f"DONE {video} {audio}", flush=True)
        sys.stdin.readline()
        engine.send(ev.HangUp())
        await engine.wait_for(lambda s: s.phase is Phase.ENDED, 10)

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


def cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def pss_mb(processes: list[psutil.Process]) -> float:
    total_kb = 0
    for process in processes:
        try:
            rollup = Path(f"/proc/{process.pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def start_far_end() -> tuple[subprocess.Popen[str], str]:
    far = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kiosk.refnode",
            "--port",
            "0",
            "--room",
            f"{ALIAS}:{HOST_PIN}",
            "--bot-admit-after",
            "0.5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert far.stdout is not None
    line = far.stdout.readline()
    base_url = line.split()[3].rstrip(";")
    return far, base_url


def kiosk_patient(base_url: str, seconds: float) -> tuple[float, float, dict[str, int]]:
    kiosk = subprocess.Popen(
        [sys.executable, "-c", _KIOSK, base_url, ALIAS, str(seconds)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert kiosk.stdout is not None and kiosk.stdin is not None
    process = psutil.Process(kiosk.pid)
    assert kiosk.stdout.readline().strip() == "CALL", "the kiosk never got into the call"
    start = cpu_s([process])
    done = kiosk.stdout.readline().split()
    used = cpu_s([process]) - start
    memory = pss_mb([process])
    kiosk.stdin.write("\n")
    kiosk.stdin.flush()
    kiosk.wait(30)
    return used, memory, {"remote_video_frames": int(done[1]), "remote_audio_frames": int(done[2])}


def chromium_processes(profile_hint: str) -> list[psutil.Process]:
    browsers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if any(profile_hint in part for part in (p.info["cmdline"] or []))
        and not any(part.startswith("--type=") for part in (p.info["cmdline"] or []))
    ]
    found: list[psutil.Process] = []
    for browser in browsers:
        found.append(browser)
        found.extend(browser.children(recursive=True))
    return found


async def chromium_patient(base_url: str, seconds: float) -> tuple[float, float, dict[str, int]]:
    async with chromium() as context:
        page = await context.new_page()
        await page.goto(f"{base_url}/practitioner?alias={ALIAS}&name=Pasient")
        await page.evaluate(f"() => join('{ALIAS}', '', 'Pasient')")
        await page.wait_for_function(
            "window.practitioner.videoFrames > 30", timeout=60_000, polling=100
        )
        await asyncio.sleep(3)
        processes = chromium_processes("kiosk-chromium-")
        start = cpu_s(processes)
        frames_before = await page.evaluate("() => window.practitioner.videoFrames")
        await asyncio.sleep(seconds)
        processes = chromium_processes("kiosk-chromium-")
        used = cpu_s(processes) - start
        memory = pss_mb(processes)
        frames = await page.evaluate("() => window.practitioner.videoFrames") - frames_before
        await page.evaluate("() => leave()")
        return used, memory, {"remote_video_frames": int(frames), "processes": len(processes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    pulse = start_pulse()
    far, base_url = start_far_end()
    try:
        kiosk_cpu, kiosk_pss, kiosk_media = kiosk_patient(base_url, args.seconds)
        chromium_cpu, chromium_pss, chromium_media = asyncio.run(
            chromium_patient(base_url, args.seconds)
        )
    finally:
        far.terminate()
        far.wait(10)
        pulse.stop()
    emit(
        {
            "seconds": args.seconds,
            "kiosk_cpu_s": round(kiosk_cpu, 2),
            "chromium_cpu_s": round(chromium_cpu, 2),
            "kiosk_pss_mb": round(kiosk_pss, 1),
            "chromium_pss_mb": round(chromium_pss, 1),
            "cpu_ratio": round(kiosk_cpu / chromium_cpu, 3),
            "mem_ratio": round(kiosk_pss / chromium_pss, 3),
            "kiosk_media": kiosk_media,
            "chromium_media": chromium_media,
        }
    )


if __name__ == "__main__":
    main()
