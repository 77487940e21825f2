"""The alert rules and scrape config refer to metrics the kiosk really exports."""

from __future__ import annotations

import re
import shutil
import subprocess
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


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: Debian's prometheus package (in the Makefile) has it"
    return subprocess.run(
        [promtool, *args], cwd=PROM, capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_rules() -> None:
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())["groups"][0]["rules"]
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout


def test_promtool_rule_tests_pass() -> None:
    result = _promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


def test_every_alert_has_a_rule_test_that_fires_it_and_one_that_does_not() -> None:
    alerts = {
        rule["alert"]
        for group in yaml.safe_load((PROM / "alerts.yml").read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    suite = yaml.safe_load((PROM / "alerts_test.yml").read_text())
    assert suite["rule_files"] == ["alerts.yml"]
    fired: set[str] = set()
    quiet: set[str] = set()
    for test in suite["tests"]:
        for case in test.get("alert_rule_test", []):
            (fired if case["exp_alerts"] else quiet).add(case["alertname"])
    assert alerts, "no alerts in alerts.yml"
    assert alerts <= fired, f"alerts no test sees firing: {sorted(alerts - fired)}"
    assert alerts <= quiet, f"alerts no test sees quiet: {sorted(alerts - quiet)}"
    assert fired | quiet <= alerts, (
        f"tests of alerts that do not exist: {sorted((fired | quiet) - alerts)}"
    )
