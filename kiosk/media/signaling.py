"""The narrow seam between media and the conference client: media never imports the wire."""

from __future__ import annotations

from typing import Protocol

from kiosk.media.call import Call


class Signaling(Protocol):
    async def send_offer(self, sdp: str) -> str:
        """Send our offer (the `calls` request); returns the far end's answer SDP."""
        ...

    async def ack(self) -> None:
        """Tell the far end our media is ready (after the answer is applied)."""
        ...

    async def hang_up(self) -> None:
        """Leave the call on the wire (the media is closed separately)."""
        ...


class DirectSignaling(Signaling, Protocol):
    async def send_answer(self, sdp: str) -> None:
        """Direct media: return our answer to an offer the far end made."""
        ...


async def connect(call: Call, signaling: Signaling) -> None:
    """Offer, apply the answer, ack: the kiosk-offers path (transcoded calls)."""
    answer = await signaling.send_offer(await call.offer())
    await call.accept_answer(answer)
    await signaling.ack()


async def connect_direct(call: Call, signaling: DirectSignaling, offer_sdp: str) -> None:
    """Answer the far end's offer and ack: the direct-media path."""
    await signaling.send_answer(await call.answer(offer_sdp))
    await signaling.ack()
