"""The reference node on loopback with one room, for tests that talk to it directly.

Import the fixture into a test module with `from tests.support.ref_node import node as node`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kiosk.refnode import RefNode, RoomSpec

ALIAS, HOST_PIN = "123456", "4321"


@pytest.fixture
async def node() -> AsyncIterator[RefNode]:
    refnode = RefNode([RoomSpec(ALIAS, HOST_PIN)])
    await refnode.start()
    yield refnode
    await refnode.stop()
