"""Behaviours of a real Pexip Infinity node that the reference node can be switched into.

Each field is taken from a cited source, never from what the kiosk happens to expect (keys as in
the project's Pexip reference notes: A = pexip-android-sdk @5ba5ab6, W = pexip-swift-sdk
@fc9eae8, P = PexRTC.js @6183dd0):

- `trickle_ice`: the token says `trickle_ice_enabled: true` (A's request_token_v35/v36 test
  resources) and the node's answer carries no candidates; they follow as `new_candidate`
  events with `candidate`, `mid`, `ufrag`, `pwd` (A InfinityEvent NewCandidateEvent; all three
  clients add them to their peer connection: A WebRtcMediaConnection, W Conference, P
  processEvent "new_candidate").
- `calls_delay_s`, `ack_delay_s`: a loaded node holds `calls`/`ack`; official clients wait
  62 s for `calls` (W ParticipantService) and set no read timeout on `ack` (A CallStepImpl).
- `guests_enter_before_host`: in an unlocked room, a guest gets `service_type: conference`
  before any host is in, and only `conference_update.started: false` says the conference has
  not begun (A InfinityEvent ConferenceUpdateEvent.started; W ConferenceStatus.started); which
  service type a real guest has then is not published, so this is a switch.
- `gateway_errors`: a burst of 502/504 from the proxy in front of the node, which PexRTC
  retries up to 10 times (P sendRequest).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MID = re.compile(r"^a=mid:(\S+)$")
_UFRAG = re.compile(r"^a=ice-ufrag:(\S+)$")
_PWD = re.compile(r"^a=ice-pwd:(\S+)$")


@dataclass
class Personality:
    trickle_ice: bool = False
    guests_enter_before_host: bool = False
    calls_delay_s: float = 0.0
    ack_delay_s: float = 0.0
    # The next this many requests to these endpoints are answered with the status below.
    gateway_errors: int = 0
    gateway_status: int = 502
    gateway_endpoints: tuple[str, ...] = ("request_token", "calls")


NAMED = {
    "plain": Personality(),
    "trickle": Personality(trickle_ice=True),
    "slow": Personality(calls_delay_s=20.0, ack_delay_s=20.0),
    "gateway-burst": Personality(gateway_errors=3),
}


@dataclass(frozen=True)
class Candidate:
    """One `new_candidate` event body."""

    candidate: str
    mid: str
    ufrag: str
    pwd: str

    def to_json(self) -> dict[str, str]:
        return {"candidate": self.candidate, "mid": self.mid, "ufrag": self.ufrag, "pwd": self.pwd}


def split_candidates(sdp: str) -> tuple[str, list[Candidate]]:
    """The SDP without its candidates, and the candidates as a trickling node sends them."""
    kept: list[str] = []
    found: list[Candidate] = []
    session_ufrag = session_pwd = ""
    mid = ufrag = pwd = ""
    pending: list[str] = []
    in_media = False

    def flush() -> None:
        for line in pending:
            found.append(Candidate(line, mid, ufrag or session_ufrag, pwd or session_pwd))
        pending.clear()

    for line in sdp.replace("\r\n", "\n").rstrip("\n").split("\n"):
        if line.startswith("m="):
            flush()
            in_media, mid, ufrag, pwd = True, "", "", ""
        elif (m := _MID.match(line)) is not None:
            mid = m.group(1)
        elif (m := _UFRAG.match(line)) is not None:
            ufrag, session_ufrag = (m.group(1), session_ufrag) if in_media else ("", m.group(1))
        elif (m := _PWD.match(line)) is not None:
            pwd, session_pwd = (m.group(1), session_pwd) if in_media else ("", m.group(1))
        if line.startswith("a=candidate:"):
            pending.append(line[2:])
            continue
        if line == "a=end-of-candidates":
            continue
        kept.append(line)
    flush()
    return "\r\n".join(kept) + "\r\n", found
