from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from kiosk.base.status import CheckStatus
from kiosk.fleet.metrics import KioskMetrics
from kiosk.session.state import Phase


@pytest.fixture
def metrics() -> Iterator[KioskMetrics]:
    m = KioskMetrics(CollectorRegistry())
    yield m
    m.close()


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        return str(response.read().decode())


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def current_phases(text: str) -> list[str]:
    return sorted(
        dict(labels)["phase"]
        for (name, labels), value in samples(text).items()
        if name == "kiosk_session_phase" and value == 1
    )


def test_scraped_over_http_with_a_whole_session_and_no_personal_data(metrics: KioskMetrics) -> None:
    port = metrics.serve("127.0.0.1", 0)
    metrics.set_versions(kiosk="0.1.0", aiortc="1.16.0")
    metrics.set_config_version(12)
    first = samples(scrape(port))
    # Every phase the session has is a series before it is first entered, and no other.
    assert sorted(dict(labels)["phase"] for (name, labels) in first
                  if name == "kiosk_session_phase") == sorted(p.value for p in Phase)  # fmt: skip
    seen = [current_phases(scrape(port))]
    for name in ["idle", "number", "checks", "joining", "waiting", "in_call", "reconnecting",
                 "in_call", "ended", "wiping", "idle"]:  # fmt: skip
        metrics.observe_phase(Phase(name))
        seen.append(current_phases(scrape(port)))
    assert seen == [[], ["idle"], ["number"], ["checks"], ["joining"], ["waiting"], ["in_call"],
                    ["reconnecting"], ["in_call"], ["ended"], ["wiping"], ["idle"]]  # fmt: skip
    metrics.device_present("camera", True)
    metrics.device_present("microphone", False)
    metrics.check_result("light", CheckStatus.WARN)
    metrics.check_result("light", CheckStatus.PASS)
    metrics.count_reconnect()
    text = scrape(port)
    s = samples(text)
    assert s[("kiosk_session_phase_entries_total", (("phase", "in_call"),))] == 2
    assert s[("kiosk_build_info", (("aiortc", "1.16.0"), ("kiosk", "0.1.0")))] == 1
    assert s[("kiosk_config_version", ())] == 12
    assert s[("kiosk_device_present", (("device", "camera"),))] == 1
    assert s[("kiosk_device_present", (("device", "microphone"),))] == 0
    light = {
        dict(labels)["status"]: value
        for (name, labels), value in s.items()
        if name == "kiosk_check_status" and dict(labels)["check"] == "light"
    }
    assert light == {"pass": 1, "warn": 0, "fail": 0}
    assert s[("kiosk_call_reconnects_total", ())] == 1
    assert ("process_start_time_seconds", ()) in s
    # No label value can carry a meeting number, PIN or name: only identifiers and versions.
    for _, labels in s:
        for key, value in labels:
            if key == "le":
                continue
            assert re.fullmatch(r"[a-z_]+|\d\.\d+\.\d+", value), (key, value)
    # The series names and labels (everything but the values) hold no digit run and no name.
    series = [line.rpartition(" ")[0] for line in text.splitlines() if not line.startswith("#")]
    assert series and not [x for x in series if re.search(r"\d{4,}", x) and "le=" not in x]
    assert "Nordmann" not in text


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.device_present("Kari Nordmann", True),
        lambda m: m.check_result("camera", CheckStatus.RUNNING),
        lambda m: m.check_result("987654", CheckStatus.PASS),
        lambda m: m.set_versions(kiosk="1.0 patient Ola"),
    ],
)
def test_free_text_is_refused_so_it_cannot_reach_a_label(
    metrics: KioskMetrics, call: object
) -> None:
    with pytest.raises(ValueError, match="expected"):
        call(metrics)  # type: ignore[operator]


def test_serving_twice_is_an_error_and_close_frees_the_port(metrics: KioskMetrics) -> None:
    port = metrics.serve("127.0.0.1", 0)
    with pytest.raises(RuntimeError):
        metrics.serve("127.0.0.1", 0)
    metrics.close()
    with pytest.raises(OSError):
        scrape(port)


def test_wrong_staff_pins_are_counted(metrics: KioskMetrics) -> None:
    port = metrics.serve("127.0.0.1", 0)
    assert samples(scrape(port))[("kiosk_staff_pin_failures_total", ())] == 0
    metrics.count_pin_failure()
    metrics.count_pin_failure()
    assert samples(scrape(port))[("kiosk_staff_pin_failures_total", ())] == 2
