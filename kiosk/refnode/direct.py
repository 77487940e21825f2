"""Direct media on the reference node: the node carries no media, it only passes the host's
offer to the admitted guest (`new_offer`) and the guest's answer (`ack {sdp}`) back to the
host as the answer of the host's own `calls` request, which it holds until then."""

from __future__ import annotations

import asyncio
import uuid as uuidlib
from dataclasses import dataclass, field


@dataclass(eq=False)
class DirectLeg:
    """One participant's call in a direct-media room: a call uuid to ack on, the host's
    offer (guests' offers are ignored) and who it is paired with."""

    offer: str | None = field(default=None, repr=False)
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    peer: str | None = None
    acked: bool = False
    answer: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    def deliver(self, sdp: str) -> bool:
        if self.answer.done():
            return False
        self.answer.set_result(sdp)
        return True

    def cancel(self) -> None:
        if not self.answer.done():
            self.answer.cancel()
