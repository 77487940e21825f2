from __future__ import annotations

import asyncio
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.fleet.cli import main
from kiosk.fleet.ctl import CtlError, CtlServer, ctl_request


class Terminal:
    """Stands in for the engine: busy while a consultation runs, idle otherwise."""

    def __init__(self) -> None:
        self.idle = asyncio.Event()
        self.idle.set()
        self.history: list[str] = []

    def start_call(self) -> None:
        self.idle.clear()
        self.history.append("call started")

    def end_call(self) -> None:
        self.idle.set()
        self.history.append("call ended")

    def status(self) -> dict[str, Any]:
        return {"phase": "idle" if self.idle.is_set() else "in_call", "version": "0.1.0"}

    def is_idle(self) -> bool:
        return self.idle.is_set()

    async def wait_idle(self) -> None:
        await self.idle.wait()

    def request_reboot(self) -> None:
        assert self.is_idle(), "rebooted during a consultation"
        self.history.append("reboot")

    def request_reload_config(self) -> None:
        assert self.is_idle()
        self.history.append("reload-config")


@pytest.fixture
def terminal() -> Terminal:
    return Terminal()


@pytest.fixture
async def socket_path(tmp_path: Path, terminal: Terminal) -> AsyncIterator[Path]:
    path = tmp_path / "ctl.sock"
    async with CtlServer(path, terminal):
        yield path
    assert not path.exists()


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_reboot_when_idle_waits_for_the_call_to_end(
    socket_path: Path, terminal: Terminal, capsys: pytest.CaptureFixture[str]
) -> None:
    assert stat.S_IMODE(os.stat(socket_path).st_mode) == 0o660
    terminal.start_call()
    command = asyncio.create_task(cli("ctl", "--socket", str(socket_path), "reboot", "--when-idle"))
    err = ""
    async with asyncio.timeout(10):
        # Until the kiosk has said it waits (however busy the machine is).
        while "waiting for the consultation to end" not in err:
            await asyncio.sleep(0.05)
            err += capsys.readouterr().err
    await asyncio.sleep(0.3)
    assert not command.done()
    terminal.history.append("still in call")
    terminal.end_call()
    assert await asyncio.wait_for(command, 5) == 0
    assert terminal.history == ["call started", "still in call", "call ended", "reboot"]
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"done": "reboot"}


async def test_disruptive_commands_without_when_idle_are_refused_during_a_call(
    socket_path: Path, terminal: Terminal, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal.start_call()
    assert await cli("ctl", "--socket", str(socket_path), "reboot") == 1
    assert await cli("ctl", "--socket", str(socket_path), "reload-config") == 1
    assert "a consultation is in progress" in capsys.readouterr().err
    assert await cli("ctl", "--socket", str(socket_path), "status") == 0
    assert json.loads(capsys.readouterr().out) == {
        "idle": False,
        "phase": "in_call",
        "version": "0.1.0",
    }
    terminal.end_call()
    assert await cli("ctl", "--socket", str(socket_path), "reload-config") == 0
    assert terminal.history == ["call started", "call ended", "reload-config"]


async def test_wait_idle_times_out_without_acting_and_a_hang_up_cancels(
    socket_path: Path, terminal: Terminal
) -> None:
    terminal.start_call()
    with pytest.raises(CtlError, match=r"still busy after 0\.2 s"):
        await ctl_request(socket_path, {"cmd": "reboot", "when_idle": True, "timeout_s": 0.2})
    events: list[dict[str, Any]] = []
    waiting = asyncio.create_task(
        ctl_request(socket_path, {"cmd": "reboot", "when_idle": True}, events.append)
    )
    await asyncio.sleep(0.2)
    waiting.cancel()  # the client goes away: its reboot must not happen later
    await asyncio.sleep(0.1)
    terminal.end_call()
    await asyncio.sleep(0.1)
    assert events == [{"event": "waiting", "reason": "busy"}]
    assert terminal.history == ["call started", "call ended"]
    reply = await ctl_request(socket_path, {"cmd": "wait-idle", "timeout_s": 1})
    assert reply == {"ok": True, "result": {"done": "wait-idle"}}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json\n", "expected one JSON object"),
        (b"[1]\n", "expected a JSON object"),
        (b'{"cmd": "rm -rf"}\n', "cmd: expected one of status, reboot"),
        (b'{"cmd": "reboot", "when_idle": "yes"}\n', "when_idle: expected true or false"),
        (b'{"cmd": "wait-idle", "timeout_s": -1}\n', "timeout_s: expected a positive"),
        (b'{"cmd": "status", "pin": "1234"}\n', "unknown field"),
    ],
)
async def test_bad_requests_get_a_clear_error_and_the_connection_stays_usable(
    socket_path: Path, terminal: Terminal, line: bytes, message: str
) -> None:
    reader, writer = await asyncio.open_unix_connection(socket_path)
    writer.write(line + b'{"cmd": "status"}\n')
    await writer.drain()
    first = json.loads(await reader.readline())
    second = json.loads(await reader.readline())
    writer.close()
    assert first["ok"] is False and message in first["error"]
    assert second["ok"] is True and second["result"]["idle"] is True
    assert terminal.history == []


async def test_no_kiosk_listening_is_reported_as_unreachable(tmp_path: Path) -> None:
    assert await cli("ctl", "--socket", str(tmp_path / "none.sock"), "status") == 3
