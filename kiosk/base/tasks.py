"""Ending background tasks without hiding the caller's own cancellation.

The usual `task.cancel(); with suppress(CancelledError): await task` also swallows a
cancellation aimed at the caller while it waits, and the caller then goes on as if nothing
happened. At shutdown the event loop cancels every task once and waits for them all, so one
caller that carries on after that waits for ever, and the process does not end.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Future[Any] | None) -> list[BaseException]:
    """Cancel `tasks` and wait until each has ended; None and the current task are skipped.

    Returns what the tasks ended with other than their cancellation (retrieved, so nothing
    is reported as never retrieved). If the caller is cancelled while it waits, that
    cancellation is raised: the tasks are already cancelled and end on their own.
    """
    current = asyncio.current_task()
    pending = [task for task in tasks if task is not None and task is not current]
    for task in pending:
        task.cancel()
    if pending:
        # `wait` neither raises what the tasks raise nor absorbs the caller's cancellation.
        await asyncio.wait(pending)
    return [
        error
        for task in pending
        if not task.cancelled() and (error := task.exception()) is not None
    ]


def caller_cancelled() -> bool:
    """Whether the running task has been asked to stop: a CancelledError caught while this
    holds is the caller's own and must be raised again."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
