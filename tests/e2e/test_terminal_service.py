"""The terminal as it really runs: `kiosk run` as a separate process started the way
systemd/etc/systemd/system/kiosk.service starts it (its environment, a notify socket the test
reads, HOME and XDG_* in a fresh runtime directory), under Xvfb with PulseAudio null sinks and
the echo canceller, driven by real taps and key presses from xdotool into the virtual screen.

The whole-day test also installs the configuration the way a terminal gets it (`kiosk enrol
apply` and `kiosk config pull` from an HTTPS server with its own CA, bundles signed by `kiosk
config sign`), puts the conference node behind the fault lab's link, runs IT's `kiosk ctl`
commands, and has Debian's Prometheus scrape the kiosk throughout."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kiosk.base.pins import hash_pin
from kiosk.cli.demo import DEMO_ROOM
from kiosk.fleet.enrolment import Enrolment
from kiosk.refnode.practitioner import PractitionerBot
from kiosk.refnode.server import RefNode
from tests.e2e.taps import (
    CALL_END,
    CALL_SHOW_ID,
    CHECKS_HEARD,
    CHECKS_KNOCK,
    ENDED_DONE,
    MAINTENANCE_CORNER,
    MAINTENANCE_TEST_CALL,
    NURSE_CORNER,
    START,
)
from tests.e2e.terminal import (
    ROOT,
    WATCHDOG_USEC,
    BundleServer,
    Prometheus,
    Terminal,
    free_port,
    kiosk_run,
)
from tests.fleet.tls import make_server_tls
from tests.support.far_end import HOST_PIN, ROOM_ALIAS, FarEnd
from tests.support.netns import NetLab, netlab
from tests.support.pulse import PulseServer
from tests.support.room import Room, room
from tests.support.xvfb import xvfb_display

__all__ = ["netlab", "room", "xvfb_display"]

T = TypeVar("T")
SHOTS = ROOT / "artifacts" / "terminal-service"
SITE, TERMINAL = "helsestasjon", "kiosk-1"
NURSE_PIN, MAINTENANCE_PIN = "246813", "975310"
TEST_ROOM, TEST_ROOM_PIN = "271828", "16180"

CORNER_HOLD_S = 3.4


@pytest.fixture
def node() -> Iterator[tuple[RefNode, str]]:
    """The conference node and a practitioner who admits, on their own loop in a thread, so
    the test can block on the terminal while they answer."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(30)

    refnode = RefNode([DEMO_ROOM], waiting_timeout_s=900)
    base_url = run(refnode.start("127.0.0.1", 0))
    bot = PractitionerBot(base_url, DEMO_ROOM.alias, DEMO_ROOM.host_pin, admit_after_s=0.5)
    run(bot.start())
    try:
        yield refnode, base_url
    finally:
        run(bot.leave())
        run(refnode.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _echo_modules(pulse: PulseServer) -> list[str]:
    return [line for line in pulse.pactl("list", "modules", "short").splitlines() if "echo" in line]


def _assert_watchdog_fed(term: Terminal) -> None:
    names = term.notify.names()
    assert names.count("READY=1") == 1, names[:5]
    assert term.notify.longest_watchdog_gap() < WATCHDOG_USEC / 1e6


def _into_a_call(term: Terminal, alias: str) -> None:
    term.screenshot("start-screen")
    term.tap_until(*START, "number")
    term.type_keys(alias)
    term.screenshot("number-typed")
    term.key("Return")
    term.wait_phase("checks", 10)
    time.sleep(3)  # the picture checks need a few analyses before "Knock" leads anywhere
    term.screenshot("checks")
    term.tap(*CHECKS_KNOCK)
    term.wait_phase("in_call", 30)
    term.screenshot("in-call")


def test_sigterm_in_a_call_leaves_the_conference_and_exits_within_two_seconds(
    node: tuple[RefNode, str], xvfb_display: str, room: Room, tmp_path: Path
) -> None:
    refnode, base_url = node
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    config = tmp_path / "kiosk.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            node_url = "{base_url}"
            allowed_hosts = ["127.0.0.1"]
            clinic_phone = "22 22 22 22"
            camera = "synthetic"
            speaker = "{room.speaker}"
            microphone = "{room.raw_microphone}"
            management_port = {free_port()}
            ctl_socket = "{runtime / "ctl.sock"}"
            """
        )
    )
    env = {"PULSE_SERVER": room.pulse.server, "KIOSK_CONFIG": str(config)}
    conference = refnode.room(DEMO_ROOM.alias)
    with kiosk_run(
        env,
        runtime=runtime,
        ctl_socket=runtime / "ctl.sock",
        display=xvfb_display,
        shots=SHOTS / "sigterm",
        work=tmp_path,
    ) as term:
        pid = term.process.pid
        assert _echo_modules(room.pulse), "the echo canceller was not loaded"
        _into_a_call(term, DEMO_ROOM.alias)
        status = term.ctl("status")
        # Under load the media watch may already be rebuilding the call; either is "in a call".
        assert status["phase"] in ("in_call", "reconnecting"), status
        assert status["observer_failures"] == 0
        assert term.process.pid == pid
        sent_at = time.monotonic()
        term.process.send_signal(signal.SIGTERM)
        code = term.process.wait(10)
        took = time.monotonic() - sent_at
    assert code == 0
    assert took <= 2.0, f"kiosk run took {took:.2f} s to stop (signal at {sent_at:.3f})"
    leaves = [why for kind, _, why in conference.journal if kind == "leave"]
    assert any(why.startswith("released token") for why in leaves), leaves
    names = term.notify.names()
    assert names.index("READY=1") < names.index("STOPPING=1")
    stopping_at = next(t for t, m in term.notify.messages if m == "STOPPING=1")
    assert sent_at < stopping_at < sent_at + took
    pings = [t for t, m in term.notify.messages if m == "WATCHDOG=1"]
    assert len(pings) >= 3
    assert max(b - a for a, b in itertools.pairwise(pings)) < WATCHDOG_USEC / 1e6
    assert _echo_modules(room.pulse) == [], "the echo canceller stayed loaded"


# -- a whole day --------------------------------------------------------------------------------


def _kiosk(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
    return done.stdout


def _site_toml(far: FarEnd, lab: NetLab, room: Room, runtime: Path, port: int, phone: str) -> str:
    return textwrap.dedent(
        f"""
        site = "{SITE}"
        node_url = "{far.base_url}"
        allowed_hosts = ["{lab.far_ip}"]
        ca_file = "{far.ca}"
        clinic_name = "Helsestasjonen"
        clinic_phone = "{phone}"
        camera = "synthetic"
        speaker = "{room.speaker}"
        microphone = "{room.raw_microphone}"
        management_host = "127.0.0.1"
        management_port = {port}
        ctl_socket = "{runtime / "ctl.sock"}"
        nurse_pin_hash = "{hash_pin(NURSE_PIN)}"
        maintenance_pin_hash = "{hash_pin(MAINTENANCE_PIN)}"
        test_room = "{TEST_ROOM}"
        """
    )


def _say_into_the_microphone(room: Room, words: str) -> subprocess.Popen[bytes]:
    """The patient speaks: espeak-ng's voice played into the air at the microphone."""
    env = {**os.environ, "PULSE_SERVER": room.pulse.server}
    speech = subprocess.run(
        ["espeak-ng", "--stdout", "-v", "nb", "-a", "200", words],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    player = subprocess.Popen(
        ["paplay", f"--device={room.microphone}"], stdin=subprocess.PIPE, env=env
    )
    assert player.stdin is not None
    player.stdin.write(speech)
    player.stdin.close()
    return player


def _metric(prometheus: Prometheus, expr: str) -> float | None:
    return prometheus.value(expr)


def _wait_metric(term: Terminal, prometheus: Prometheus, expr: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        term.alive()
        if _metric(prometheus, expr) == 1.0:
            return
        time.sleep(0.5)
    term.screenshot("metric-missing")
    raise AssertionError(f"expected {expr} = 1 within {timeout} s")


def _staff_login(term: Terminal, corner: tuple[float, float], pin: str, phase: str) -> None:
    term.hold(*corner, CORNER_HOLD_S)
    term.wait_phase("staff_pin", 10)
    term.screenshot("staff-pin")
    for attempt in range(3):
        # As a nurse would: type, and type again after a wrong PIN (a key that the busy
        # test machine's X server lost), once the pad's short wait is over.
        time.sleep(1.5 * attempt)
        term.type_keys(pin)
        term.key("Return")
        try:
            term.wait_phase(phase, 5)
            return
        except AssertionError:
            continue
    term.wait_phase(phase, 0.1)


def _end_and_wipe(term: Terminal) -> None:
    term.tap_in("in_call", *CALL_END)
    term.wait_phase("ended", 10)
    term.screenshot("ended")
    term.tap_in("ended", *ENDED_DONE)
    term.wait_phase("idle", 10)


def test_a_whole_day_at_the_terminal(
    netlab: NetLab, xvfb_display: str, room: Room, tmp_path: Path
) -> None:
    far = FarEnd(
        netlab,
        admit_after_s=1.0,
        rooms=(f"{ROOM_ALIAS}:{HOST_PIN}", f"{TEST_ROOM}:{TEST_ROOM_PIN}"),
    )
    far.start()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    etc = tmp_path / "etc"  # /etc/kiosk, which the Ansible role creates
    etc.mkdir()
    (tmp_path / "fleet-tls").mkdir()
    fleet_context, fleet_ca = make_server_tls(tmp_path / "fleet-tls")
    bundles = BundleServer(tmp_path / "fleet", fleet_context)
    cli_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A fake systemctl first on the PATH: the kiosk's reboot is recorded, not carried out.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    reboots = tmp_path / "reboots"
    systemctl = fake_bin / "systemctl"
    systemctl.write_text(f'#!/bin/sh\necho "$*" >> {reboots}\n')
    systemctl.chmod(0o755)
    metrics_port = free_port()
    prometheus: Prometheus | None = None
    try:
        # IT: a signer key, the site's configuration signed as version 1, a terminal enrolled.
        fingerprint = _kiosk(
            "config", "keygen", "--key", str(tmp_path / "signer.key"), env=cli_env
        ).strip()
        site_toml = tmp_path / "site.toml"
        site_toml.write_text(_site_toml(far, netlab, room, runtime, metrics_port, "22 22 22 22"))
        bundle_v1 = tmp_path / "bundle-v1.json"
        _kiosk(
            "config", "sign", "--key", str(tmp_path / "signer.key"), "--site", SITE,
            "--version", "1", str(site_toml), "-o", str(bundle_v1), env=cli_env,
        )  # fmt: skip
        bundles.publish("bundle.json", bundle_v1.read_bytes())
        payload = Enrolment(bundles.url("bundle.json"), fingerprint, SITE, TERMINAL).payload()
        enrolled = _kiosk(
            "enrol", "apply", payload, "--config-dir", str(etc), "--ca-file", str(fleet_ca),
            env=cli_env,
        )  # fmt: skip
        assert enrolled.strip() == "enrolled: version 1"

        prometheus = Prometheus(f"127.0.0.1:{metrics_port}", tmp_path)
        env = {
            "PULSE_SERVER": room.pulse.server,
            "KIOSK_CONFIG": str(etc / "kiosk.toml"),
            "PATH": f"{fake_bin}:{os.environ['PATH']}",
        }
        with kiosk_run(
            env,
            runtime=runtime,
            ctl_socket=runtime / "ctl.sock",
            display=xvfb_display,
            shots=SHOTS / "whole-day",
            work=tmp_path,
        ) as term:
            _a_whole_day(term, netlab, room, prometheus, bundles, tmp_path, etc, fleet_ca, cli_env)
            assert reboots.read_text().splitlines() == ["reboot", "reboot"]
            _assert_watchdog_fed(term)
            log = term.log_text()
            assert "CRITICAL" not in log and "Traceback" not in log, log[-4000:]
            assert ROOM_ALIAS not in log and TEST_ROOM not in log
    finally:
        if prometheus is not None:
            prometheus.close()
        bundles.close()
        far.stop()


def _a_whole_day(
    term: Terminal,
    lab: NetLab,
    room: Room,
    prometheus: Prometheus,
    bundles: BundleServer,
    tmp_path: Path,
    etc: Path,
    fleet_ca: Path,
    cli_env: dict[str, str],
) -> None:
    pid = term.process.pid
    assert _echo_modules(room.pulse), "the echo canceller was not loaded"
    prometheus.wait_value('kiosk_session_phase{phase="idle"}', 1.0, timeout=30)
    assert _metric(prometheus, "kiosk_config_version") == 1.0
    assert _metric(prometheus, 'kiosk_device_present{device="echo_canceller"}') == 1.0

    # -- a patient on their own: every check completes, with a voice and a confirmed chime.
    term.screenshot("start-screen")
    term.tap_until(*START, "number")
    term.type_keys(ROOM_ALIAS)
    term.screenshot("number-typed")
    term.key("Return")
    term.wait_phase("checks", 10)
    time.sleep(1.0)
    term.tap_in("checks", *CHECKS_HEARD)
    mic_passed = 'kiosk_check_status{check="microphone",status="pass"}'
    # The patient talks until the microphone line says it heard them, as the screen asks.
    for _ in range(6):
        player = _say_into_the_microphone(room, "Hei, jeg heter Kari, og jeg hører godt.")
        player.wait(30)
        if _metric(prometheus, mic_passed) == 1.0:
            break
    _wait_metric(term, prometheus, mic_passed)
    _wait_metric(term, prometheus, 'kiosk_check_status{check="speaker",status="pass"}')
    term.screenshot("checks-complete")
    term.tap(*CHECKS_KNOCK)
    term.wait_phase("in_call", 30)
    time.sleep(2.0)
    term.screenshot("in-call")

    # IT during the call: status, then a reload and a reboot that must wait for the patient.
    status = term.ctl("status")
    assert status["phase"] == "in_call" and status["observer_failures"] == 0, status
    assert (status["site"], status["terminal"]) == (SITE, TERMINAL)
    reload_waiting = term.ctl_command("reload-config", "--when-idle")
    reboot_waiting = term.ctl_command("reboot", "--when-idle")
    # A new signed bundle arrives during the call; it is installed but applied only after.
    site_toml = tmp_path / "site.toml"
    site_toml.write_text(site_toml.read_text().replace("22 22 22 22", "33 33 33 33"))
    bundle_v2 = tmp_path / "bundle-v2.json"
    _kiosk(
        "config", "sign", "--key", str(tmp_path / "signer.key"), "--site", SITE,
        "--version", "2", str(site_toml), "-o", str(bundle_v2), env=cli_env,
    )  # fmt: skip
    bundles.publish("bundle.json", bundle_v2.read_bytes())
    pulled = _kiosk(
        "config", "pull", "--config-dir", str(etc), "--ca-file", str(fleet_ca), env=cli_env
    )
    assert pulled.strip() == "applied: version 2"

    term.tap_in("in_call", *CALL_SHOW_ID)
    time.sleep(1.5)
    term.screenshot("show-id")
    term.tap_in("in_call", *CALL_SHOW_ID)

    # The network blinks for five seconds; the call comes back by itself.
    lab.cut()
    time.sleep(5.0)
    term.screenshot("link-cut")
    lab.restore()
    term.wait_phase("in_call", 30)
    time.sleep(2.0)
    term.screenshot("in-call-again")
    assert _metric(prometheus, "kiosk_call_reconnects_total") >= 1.0  # type: ignore[operator]
    assert reload_waiting.poll() is None and reboot_waiting.poll() is None
    assert _metric(prometheus, "kiosk_config_version") == 1.0

    _end_and_wipe(term)
    for waiting in (reload_waiting, reboot_waiting):
        out, err = waiting.communicate(timeout=30)
        assert waiting.returncode == 0, (out, err)
    prometheus.wait_value("kiosk_config_version", 2.0)
    assert term.ctl("status")["phase"] == "idle"

    # -- a nurse starts a session for an elderly patient.
    _staff_login(term, NURSE_CORNER, NURSE_PIN, "nurse")
    term.screenshot("nurse")
    term.type_keys(ROOM_ALIAS)
    term.key("Return")
    term.wait_phase("checks", 10)
    time.sleep(3)
    term.tap(*CHECKS_KNOCK)
    term.wait_phase("in_call", 30)
    time.sleep(1.5)
    term.screenshot("nurse-in-call")
    _end_and_wipe(term)

    # -- IT's test call from the maintenance screen.
    _staff_login(term, MAINTENANCE_CORNER, MAINTENANCE_PIN, "maintenance")
    term.screenshot("maintenance")
    term.tap_in("maintenance", *MAINTENANCE_TEST_CALL)
    term.wait_phase("in_call", 30)
    time.sleep(1.5)
    term.screenshot("test-call")
    _end_and_wipe(term)

    # -- after hours: a reboot asked for while idle goes ahead at once.
    assert term.ctl("reboot", "--when-idle") == {"done": "reboot"}
    time.sleep(2.0)  # a scrape after the last call
    # Three calls, and once more after each reconnect.
    entries = _metric(prometheus, 'kiosk_session_phase_entries_total{phase="in_call"}')
    reconnects = _metric(prometheus, "kiosk_call_reconnects_total")
    assert entries is not None and reconnects is not None
    assert entries == 3 + reconnects, (entries, reconnects)
    for series in (
        'kiosk_check_status{check="camera"}',
        'kiosk_device_present{device="camera"}',
        "kiosk_build_info",
        "kiosk_observer_failures",
        "up",
    ):
        assert prometheus.query(series), f"expected {series} in Prometheus"
    assert _metric(prometheus, "kiosk_observer_failures") == 0.0
    assert _metric(prometheus, "up") == 1.0
    assert term.process.pid == pid
    term.alive()
