"""The narrow seam between media and the conference client: media never imports the wire.

`kiosk.pexip.conference.Conference` implements `DirectSignaling`; every call set-up, in either media
mode, goes through `connect` or `connect_direct` here. Trickled candidates of the far end go
to `Call.add_remote_candidate`, which holds them until the remote description is set.
"""

from __future__ import annotations

from typing import Protocol

from kiosk.media.call import Call


class Signaling(Protocol):
    async def send_offer(self, sdp: str) -> str:
        """Send our offer (the `calls` request); returns the far end's answer SDP, or ""
        when the node ignored the offer (direct media: the far end's offer follows)."""
        ...

    async def ack(self) -> None:
        """Tell the far end our media is ready (after the answer is applied)."""
        ...

    async def hang_up(self) -> None:
        """Leave the call on the wire (the media is closed separately)."""
        ...


class DirectSignaling(Signaling, Protocol):
    async def send_answer(self, sdp: str) -> None:
        """Direct media: our answer to an offer the far end made (`ack` with the SDP)."""
        ...


async def connect(call: Call, signaling: Signaling) -> bool:
    """Offer, apply the answer, ack. False when the node ignored the offer: the far end's
    offer then comes separately and is answered with `connect_direct`."""
    answer = await signaling.send_offer(await call.offer())
    if not answer:
        return False
    await call.accept_answer(answer)
    await signaling.ack()
    return True


async def connect_direct(call: Call, signaling: DirectSignaling, offer_sdp: str) -> None:
    """Answer the far end's offer; the answer in `ack` is what starts media (Android
    MediaConnectionSignalingImpl.onAnswer), so no second, empty ack follows."""
    await signaling.send_answer(await call.answer(offer_sdp))
