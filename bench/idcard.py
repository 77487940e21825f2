"""ID-1 card guide: time per 1280×720 frame, and how often the hint is the one the scene's
parameters call for, over a generated set spanning every hint (half with a face and clutter
behind the card). Measures and prints; asserts nothing.

The set is run `passes` times (the hints are scored on the first) and the time is the median
over all of them, with each pass's median beside it to show how much this machine varies.
The time is split by timing each frame a second time, right after (so warmer in cache):
the search (downscale, edges, outline, refit) and the measure of a found card (sharpness,
glare, geometry)."""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import emit, median, p95

from kiosk.base.memory import tune_malloc
from kiosk.vision.idcard import CardGuide, Guide, find_card, measure_card
from scenes.cards import card_scene_set
from scenes.render import render_scene


def main(count: int = 240, passes: int = 3) -> None:
    cv2.setNumThreads(1)
    tune_malloc()  # as the kiosk runs
    wall: list[float] = []
    cpu: list[float] = []
    per_pass: list[float] = []
    search: list[float] = []
    measure: list[float] = []
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    guide_box = Guide.centred(1280, 720)
    scenes = card_scene_set(count)
    for round_ in range(passes):
        this_pass: list[float] = []
        for scene in scenes:
            frame = render_scene(scene.spec)
            guide = CardGuide()
            start, start_cpu = time.perf_counter(), time.thread_time()
            status = guide.update(frame, 0.0)
            this_pass.append((time.perf_counter() - start) * 1000.0)
            cpu.append((time.thread_time() - start_cpu) * 1000.0)
            if round_ == 0:
                total[scene.expected] += 1
                right[scene.expected] += status.hint == scene.expected
            start = time.perf_counter()
            found = find_card(frame, guide_box)
            search.append((time.perf_counter() - start) * 1000.0)
            if found is not None:
                start = time.perf_counter()
                measure_card(frame, found[0], guide_box, found[1])
                measure.append((time.perf_counter() - start) * 1000.0)
        wall.extend(this_pass)
        per_pass.append(median(this_pass))
    emit(
        {
            "frames": count,
            "passes": passes,
            "card_ms_median_720p": median(wall),
            "card_ms_median_per_pass": per_pass,
            "card_ms_p95_720p": p95(wall),
            "card_cpu_ms_median_720p": median(cpu),
            "search_ms_median_720p": median(search),
            "measure_ms_median_720p": median(measure),
            "hint_accuracy": round(sum(right.values()) / count, 4),
            "hint_accuracy_by_hint": {k: round(right[k] / n, 3) for k, n in sorted(total.items())},
            "scenes_by_hint": dict(sorted(total.items())),
        }
    )


if __name__ == "__main__":
    main()
