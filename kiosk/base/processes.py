"""Ending a child process started with asyncio's pipes.

Python 3.11's `Process.wait` returns only once every pipe has closed, not when the process
has exited. A reader that stopped half-way leaves output unread; past 128 kB the stream
pauses reading, the pipe's end is never seen, and `wait` never returns, even for a process
long dead (a reading aloud stopped mid-synthesis held the engine's close for ever that way).
"""

from __future__ import annotations

import asyncio
import contextlib

_CHUNK = 65536


async def kill_and_wait(process: asyncio.subprocess.Process) -> int:
    """Kill `process`, read and drop what is left on its output pipes, and wait for its end.

    Once it is dead, what is left is the pipes' and the readers' buffers: a few hundred kB at
    most. Returns the exit status."""
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    if process.stdin is not None:
        process.stdin.close()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            while await stream.read(_CHUNK):
                pass
    return await process.wait()
