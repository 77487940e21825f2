from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from kiosk.fleet.metrics import KioskMetrics


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
    seen = [current_phases(scrape(port))]
    for phase in ["idle", "number", "checks", "joining", "waiting", "in_call", "reconnecting",
                  "in_call", "ended", "wiping", "idle"]:  # fmt: skip
        metrics.observe_phase(phase)
        seen.append(current_phases(scrape(port)))
    assert seen == [[], ["idle"], ["number"], ["checks"], ["joining"], ["waiting"], ["in_call"],
                    ["reconnecting"], ["in_call"], ["ended"], ["wiping"], ["idle"]]  # fmt: skip
    metrics.device_present("camera", True)
    metrics.device_present("microphone", False)
    metrics.check_result("light", "warn")
    metrics.check_result("light", "ok")
    metrics.count_reconnect()
    metrics.set_service_restarts(2)
    metrics.call_quality(0.08, 0.01, 24.0)
    metrics.call_quality(0.12, 0.03, 30.0)
    text = scrape(port)
    s = samples(text)
    assert s[("kiosk_session_phase_entries_total", (("phase", "in_call"),))] == 2
    assert s[("kiosk_build_info", (("aiortc", "1.16.0"), ("kiosk", "0.1.0")))] == 1
    assert s[("kiosk_config_version", ())] == 12
    assert s[("kiosk_device_present", (("device", "camera"),))] == 1
    assert s[("kiosk_device_present", (("device", "microphone"),))] == 0
    assert s[("kiosk_check_status", (("check", "light"), ("status", "ok")))] == 1
    assert s[("kiosk_check_status", (("check", "light"), ("status", "warn")))] == 0
    assert s[("kiosk_call_reconnects_total", ())] == 1
    assert s[("kiosk_service_restarts", ())] == 2
    assert s[("kiosk_call_rtt_seconds", ())] == pytest.approx(0.12)
    assert s[("kiosk_call_fps_distribution_count", ())] == 2
    assert s[("kiosk_call_packet_loss_distribution_ratio_sum", ())] == pytest.approx(0.04)
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
        lambda m: m.observe_phase("in call 123456"),
        lambda m: m.device_present("Kari Nordmann", True),
        lambda m: m.check_result("camera", "great"),
        lambda m: m.check_result("987654", "ok"),
        lambda m: m.set_versions(kiosk="1.0 patient Ola"),
        lambda m: m.call_quality(0.1, 1.5, 30),
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
