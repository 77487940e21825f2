from __future__ import annotations

import asyncio
import contextlib

import pytest

from kiosk.base.tasks import caller_cancelled, cancel_and_wait


async def _winds_down(seconds: float, ended: list[str], name: str) -> None:
    """Runs until cancelled, then takes `seconds` to wind down, as a call closing does."""
    try:
        await asyncio.sleep(3600)
    finally:
        await asyncio.sleep(seconds)
        ended.append(name)


async def _fails() -> None:
    await asyncio.sleep(0)
    raise ValueError("broken")


async def test_every_task_is_cancelled_and_waited_for_and_failures_come_back() -> None:
    ended: list[str] = []
    slow = asyncio.create_task(_winds_down(0.05, ended, "slow"))
    quick = asyncio.create_task(_winds_down(0.0, ended, "quick"))
    failed = asyncio.create_task(_fails())
    done = asyncio.create_task(asyncio.sleep(0))
    await asyncio.sleep(0.01)

    errors = await cancel_and_wait(slow, None, quick, failed, done)

    assert sorted(ended) == ["quick", "slow"]
    assert [type(error) for error in errors] == [ValueError]
    assert slow.cancelled() and quick.cancelled() and done.done()


async def test_the_current_task_is_left_alone() -> None:
    assert await cancel_and_wait(asyncio.current_task()) == []
    assert not caller_cancelled()


async def _closer(child: asyncio.Task[None], steps: list[str], wait: str) -> None:
    """Closes `child`, then has more to do: the shape of `Call.close`."""
    if wait == "suppress":
        child.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await child
    else:
        await cancel_and_wait(child)
    steps.append("went on")
    await asyncio.sleep(3600)  # what comes next never ends on its own


@pytest.mark.parametrize("wait", ["suppress", "cancel_and_wait"])
async def test_a_caller_cancelled_while_it_waits_is_cancelled(wait: str) -> None:
    ended: list[str] = []
    steps: list[str] = []
    child = asyncio.create_task(_winds_down(0.1, ended, "child"))
    await asyncio.sleep(0)
    closer = asyncio.create_task(_closer(child, steps, wait))
    await asyncio.sleep(0.02)  # the closer now waits for the child to wind down

    closer.cancel()  # as the event loop does to every task when it shuts down
    finished, _ = await asyncio.wait([closer], timeout=0.5)

    if wait == "suppress":
        # The defect this module exists for: the cancellation is swallowed and the closer
        # carries on into a wait that the loop's shutdown then waits on for ever; and the
        # cancellation passed on to the child cut its winding down short.
        assert steps == ["went on"] and not finished and ended == []
        await cancel_and_wait(closer)
    else:
        assert steps == [] and finished == {closer} and closer.cancelled()
        await asyncio.wait([child])
        assert ended == ["child"]  # the child wound down undisturbed


async def test_caller_cancelled_tells_its_own_cancellation_from_a_request_cut_short() -> None:
    seen: list[bool] = []

    async def cut_short() -> None:
        inner = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(0)
        inner.cancel()
        try:
            await inner
        except asyncio.CancelledError:
            seen.append(caller_cancelled())
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.append(caller_cancelled())
            raise

    task = asyncio.create_task(cut_short())
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait([task])
    assert seen == [False, True]
