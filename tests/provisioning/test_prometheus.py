"""The alert rules and scrape config refer to metrics the kiosk really exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry, generate_latest

from kiosk.fleet.metrics import KioskMetrics

PROM = Path(__file__).resolve().parents[2] / "provisioning" / "prometheus"


def test_every_metric_the_rules_use_is_exported() -> None:
    metrics = KioskMetrics(CollectorRegistry())
    metrics.device_present("camera", False)
    exported = {
        line.split("{")[0].split(" ")[0]
        for line in generate_latest(metrics.registry).decode().splitlines()
        if not line.startswith("#")
    }
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())["groups"][0]["rules"]
    names = {r["alert"] for r in rules}
    assert {"KioskTerminalDown", "KioskCameraMissing", "KioskCrashLoop"} <= names
    used = set()
    for rule in rules:
        used |= set(re.findall(r"\b([a-z_]+)(?=\{|\[| ==| >=)", rule["expr"])) - {"up", "or"}
    assert used and used <= exported, used - exported
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    assert config["scrape_configs"][0]["job_name"] == "kiosk"
