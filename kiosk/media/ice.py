"""ICE servers for a call. aiortc uses only the first STUN and the first TURN URL, so the
configuration names which TURN URL this attempt uses; the next attempt can rotate."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy


@dataclass(frozen=True)
class TurnUrl:
    url: str
    username: str = ""
    credential: str = ""

    def __post_init__(self) -> None:
        if not self.url.startswith(("turn:", "turns:")):
            raise ValueError(f"TURN url must start with turn: or turns: (got {self.url!r})")


@dataclass(frozen=True)
class IceConfig:
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[TurnUrl, ...] = ()
    turn_index: int = 0
    relay_only: bool = False

    def __post_init__(self) -> None:
        for url in self.stun_urls:
            if not url.startswith("stun:"):
                raise ValueError(f"STUN url must start with stun: (got {url!r})")
        if self.turn_urls and not 0 <= self.turn_index < len(self.turn_urls):
            raise ValueError(
                f"turn_index must be within 0..{len(self.turn_urls) - 1} (got {self.turn_index})"
            )
        if self.relay_only and not self.turn_urls:
            raise ValueError("relay_only needs at least one TURN url (got none)")

    @classmethod
    def from_lists(
        cls,
        stun: Sequence[str] = (),
        turn: Sequence[tuple[str, str, str]] = (),
        *,
        turn_index: int = 0,
        relay_only: bool = False,
    ) -> IceConfig:
        """`turn` as (url, username, credential) triples, e.g. from the configuration."""
        return cls(
            tuple(stun),
            tuple(TurnUrl(url, user, cred) for url, user, cred in turn),
            turn_index,
            relay_only,
        )

    @property
    def turn(self) -> TurnUrl | None:
        return self.turn_urls[self.turn_index] if self.turn_urls else None

    def next_turn(self) -> IceConfig:
        """The same configuration with the following TURN URL (wrapping around)."""
        if not self.turn_urls:
            return self
        return dataclasses.replace(self, turn_index=(self.turn_index + 1) % len(self.turn_urls))

    def rtc_configuration(self) -> RTCConfiguration:
        servers = [RTCIceServer(urls=url) for url in self.stun_urls[:1]]
        turn = self.turn
        if turn is not None:
            servers.append(
                RTCIceServer(urls=turn.url, username=turn.username, credential=turn.credential)
            )
        policy = RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)
