"""Turn an unhandled error anywhere in the app into a prompt, logged process exit.

A kiosk that limps on after a failed task shows a frozen or wrong screen to a patient who
cannot tell. Ending the process instead lets systemd restart it within seconds (and show
the out-of-order screen if that keeps happening).

What is logged: the exception's type and where it was raised (file, line, function), never
its message or local variables, which may hold a meeting number or a name.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine, Generator
from types import TracebackType
from typing import Any, NoReturn

log = logging.getLogger(__name__)

# EX_SOFTWARE from sysexits.h: an internal error, so systemd counts the exit as a failure.
EXIT_CODE = 70
# How long a failed task may wait for someone to look at its exception before that counts
# as unhandled. Awaiting callers look within one loop iteration.
UNRETRIEVED_GRACE_S = 0.5

Exit = Callable[[int], NoReturn]


def describe(exc: BaseException) -> str:
    """Exception types and frames of `exc` and its causes, without any message text."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)
        where = " <- ".join(
            f"{os.path.basename(f.filename)}:{f.lineno} in {f.name}" for f in reversed(frames)
        )
        parts.append(f"{type(current).__qualname__} at {where or 'unknown place'}")
        current = current.__cause__ or current.__context__
    return "; caused by ".join(parts)


def die(origin: str, exc: BaseException | None, exit: Exit = os._exit) -> NoReturn:
    """Log what failed, flush every log handler and end the process at once."""
    try:
        detail = describe(exc) if exc is not None else "no exception attached"
        log.critical("unhandled error in %s, exiting for a restart: %s", origin, detail)
        for handler in logging.getLogger().handlers:
            handler.flush()
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        exit(EXIT_CODE)


def _is_transport_noise(context: dict[str, Any]) -> bool:
    # A dropped TLS or UDP connection is reported here too; the reconnect logic owns those.
    return "transport" in context or "protocol" in context


def loop_exception_handler(
    exit: Exit = os._exit,
) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if exc is None or _is_transport_noise(context):
            # Only the type: asyncio's message may quote a repr holding session data.
            log.warning(
                "event loop reported %s (not fatal)",
                type(exc).__qualname__ if exc is not None else "a problem without exception",
            )
            return
        if isinstance(exc, asyncio.CancelledError):
            return
        die("the event loop", exc, exit)

    return handle


def _watch_task(task: asyncio.Future[Any], loop: asyncio.AbstractEventLoop, exit: Exit) -> None:
    def check() -> None:
        # Cleared by asyncio as soon as anybody calls result() or exception().
        if getattr(task, "_log_traceback", False):
            task._log_traceback = False
            die("an asyncio task", task.exception(), exit)

    def done(fut: asyncio.Future[Any]) -> None:
        if not fut.cancelled() and getattr(fut, "_log_traceback", False):
            loop.call_later(UNRETRIEVED_GRACE_S, check)

    task.add_done_callback(done)


def install_crash_handlers(loop: asyncio.AbstractEventLoop, exit: Exit = os._exit) -> None:
    """Make unhandled errors in `loop`, its tasks, the main thread and other threads fatal.

    A task that fails and whose exception nobody retrieves within half a second is fatal
    too; asyncio alone would only notice when the task is garbage-collected, maybe never.
    """
    loop.set_exception_handler(loop_exception_handler(exit))
    previous = loop.get_task_factory()

    def task_factory(
        lp: asyncio.AbstractEventLoop,
        coro: Coroutine[Any, Any, Any] | Generator[Any, None, Any],
        **kwargs: Any,
    ) -> asyncio.Future[Any]:
        task: asyncio.Future[Any]
        if previous is not None:
            task = previous(lp, coro, **kwargs)
        else:
            task = asyncio.Task(coro, loop=lp, **kwargs)
        _watch_task(task, lp, exit)
        return task

    loop.set_task_factory(task_factory)

    def excepthook(
        exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        die("the main thread", exc, exit)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        die(f"thread {name!r}", args.exc_value, exit)

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook


__all__ = ["EXIT_CODE", "describe", "die", "install_crash_handlers"]
