"""Ending a child process whose output was left half read."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from kiosk.base.processes import kill_and_wait

# More than a pipe (64 kB) and the stream's reader (128 kB before it pauses) hold together.
WRITER = "import sys; sys.stdout.buffer.write(bytes(1_000_000))"


async def _half_read_writer() -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WRITER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    await asyncio.sleep(0.5)  # the reader has paused, the writer is blocked on a full pipe
    return process


async def test_a_process_killed_with_its_output_half_read_is_waited_for() -> None:
    process = await _half_read_writer()
    status = await asyncio.wait_for(kill_and_wait(process), 5.0)
    assert status == process.returncode == -signal.SIGKILL


async def test_killing_and_waiting_alone_would_wait_for_ever_on_python_3_11() -> None:
    # What kill_and_wait is for. Python 3.12 wakes `wait` at the exit; 3.11, which the
    # terminals run, waits for the pipe's end that never comes.
    process = await _half_read_writer()
    process.kill()
    if sys.version_info < (3, 12):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(process.wait(), 1.0)
    else:
        await asyncio.wait_for(process.wait(), 1.0)
    await kill_and_wait(process)
