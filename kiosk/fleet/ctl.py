"""Local remote control: a Unix socket speaking JSON lines, for `kiosk ctl` and Ansible.

Request: ``{"cmd": "status" | "reboot" | "reload-config" | "wait-idle", "when_idle": bool,
"timeout_s": number | null}``. Replies: zero or more ``{"event": ...}`` progress lines, then one
``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ...}``. Disruptive commands never
interrupt a consultation: without ``when_idle`` they are refused while the terminal is busy;
with it they wait. A client that hangs up while waiting cancels its command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

log = logging.getLogger(__name__)

COMMANDS = ("status", "reboot", "reload-config", "wait-idle")
MAX_LINE = 64 * 1024


class CtlHandler(Protocol):
    def status(self) -> dict[str, Any]: ...

    def is_idle(self) -> bool: ...

    async def wait_idle(self) -> None:
        """Return once the terminal is (or may be) idle; the server checks again after."""
        ...

    def request_reboot(self) -> None: ...

    def request_reload_config(self) -> None: ...


class CtlError(RuntimeError):
    """A control command failed or was refused; the message says why."""


class CtlUnreachable(CtlError):
    """No kiosk is listening on the socket."""


class _Refused(Exception):
    pass


class CtlServer:
    def __init__(self, path: Path, handler: CtlHandler, *, mode: int = 0o660) -> None:
        self._path = path
        self._handler = handler
        self._mode = mode
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._path.unlink(missing_ok=True)
        self._server = await asyncio.start_unix_server(self._serve, path=self._path, limit=MAX_LINE)
        os.chmod(self._path, self._mode)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._clients):
                task.cancel()
            await asyncio.gather(*self._clients, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None
        self._path.unlink(missing_ok=True)

    async def __aenter__(self) -> CtlServer:
        await self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._clients.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await _send(
                        writer, {"ok": False, "error": f"expected a line under {MAX_LINE} bytes"}
                    )
                    return
                if not line:
                    return
                reply = await self._one(line, reader, writer)
                if reply is None:
                    return
                await _send(writer, reply)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._clients.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _one(
        self, line: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> dict[str, Any] | None:
        try:
            request = _parse_request(line)
        except _Refused as exc:
            return {"ok": False, "error": str(exc)}
        cmd = request["cmd"]
        log.info("ctl: %s%s", cmd, " when idle" if request["when_idle"] else "")
        if cmd == "status":
            return {
                "ok": True,
                "result": {**self._handler.status(), "idle": self._handler.is_idle()},
            }
        action: Callable[[], None] | None = {
            "reboot": self._handler.request_reboot,
            "reload-config": self._handler.request_reload_config,
            "wait-idle": None,
        }[cmd]
        if action is not None and not request["when_idle"] and not self._handler.is_idle():
            return {
                "ok": False,
                "error": f"{cmd} refused: a consultation is in progress (use --when-idle to wait)",
            }
        if not self._handler.is_idle():
            await _send(writer, {"event": "waiting", "reason": "busy"})
        waiting = asyncio.ensure_future(self._until_idle_then(action))
        hangup = asyncio.ensure_future(reader.read(1))
        try:
            done, _ = await asyncio.wait(
                {waiting, hangup}, timeout=request["timeout_s"], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            hangup.cancel()
            if not waiting.done():
                waiting.cancel()
            # The reader is read again for the next request: the cancelled read must be
            # over first, or the stream refuses a second reader.
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await hangup
        if waiting in done:
            if (failure := waiting.exception()) is not None:
                log.warning("ctl: %s failed: %s", cmd, failure)
                return {"ok": False, "error": f"{cmd} failed: {failure}"}
            log.info("ctl: %s done", cmd)
            return {"ok": True, "result": {"done": cmd}}
        if hangup in done:
            log.info("ctl: %s cancelled: the client hung up", cmd)
            return None
        log.info("ctl: %s timed out", cmd)
        return {
            "ok": False,
            "error": f"{cmd}: still busy after {request['timeout_s']} s; nothing done",
        }

    async def _until_idle_then(self, action: Callable[[], None] | None) -> None:
        # Checked again after every wake-up, and acted on with no await in between, so no
        # session can start between the check and the action (one event loop).
        while not self._handler.is_idle():
            await self._handler.wait_idle()
        if action is not None:
            action()


def _parse_request(line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Refused(f"expected one JSON object per line ({exc})") from exc
    if not isinstance(request, dict):
        raise _Refused(f"expected a JSON object, got {type(request).__name__}")
    unknown = sorted(set(request) - {"cmd", "when_idle", "timeout_s"})
    if unknown:
        raise _Refused(f"unknown field(s): {', '.join(unknown)}")
    cmd = request.get("cmd")
    if cmd not in COMMANDS:
        raise _Refused(f"cmd: expected one of {', '.join(COMMANDS)}, got {cmd!r}")
    when_idle = request.get("when_idle", False)
    if not isinstance(when_idle, bool):
        raise _Refused(f"when_idle: expected true or false, got {when_idle!r}")
    timeout = request.get("timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise _Refused(f"timeout_s: expected a positive number of seconds, got {timeout!r}")
    return {"cmd": cmd, "when_idle": when_idle, "timeout_s": timeout}


async def _send(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(json.dumps(message).encode() + b"\n")
    await writer.drain()


async def ctl_request(
    path: Path,
    request: dict[str, Any],
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Send one request and return its final reply; raises CtlError if the kiosk refused it."""
    try:
        reader, writer = await asyncio.open_unix_connection(path, limit=MAX_LINE)
    except (FileNotFoundError, ConnectionRefusedError) as exc:
        raise CtlUnreachable(f"no kiosk listening on {path} ({exc.strerror})") from exc
    try:
        writer.write(json.dumps(request).encode() + b"\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                raise CtlUnreachable("the kiosk closed the connection without a reply")
            reply = json.loads(line)
            if "event" in reply:
                if on_event is not None:
                    on_event(reply)
                continue
            if not reply.get("ok"):
                raise CtlError(str(reply.get("error", "refused")))
            return dict(reply)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
