"""The shape check every SDP from the node passes before it reaches the media stack.

Only the outline is checked (size, text, `v=0` first, `<letter>=` lines): the media stack
parses the rest. A refusal names what was expected, never the SDP's content.
"""

from __future__ import annotations

import re

from kiosk.pexip.errors import ProtocolError

# A full two-track offer with every candidate is a few kilobytes; leave ample room.
MAX_SDP_CHARS = 64 * 1024
_LINE = re.compile(r"[a-z]=[^\x00-\x08\x0a-\x1f\x7f]*")


def checked_sdp(sdp: object) -> str:
    """Return `sdp` unchanged if it looks like a session description, else ProtocolError."""
    if not isinstance(sdp, str):
        raise ProtocolError(f"expected the SDP as a string, got {type(sdp).__name__}")
    if len(sdp) > MAX_SDP_CHARS:
        raise ProtocolError(
            f"expected an SDP of at most {MAX_SDP_CHARS} characters, got {len(sdp)}"
        )
    if not sdp.startswith("v=0"):
        raise ProtocolError("expected an SDP starting with v=0, got something else")
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    for number, line in enumerate(lines, 1):
        if not _LINE.fullmatch(line):
            raise ProtocolError(
                f"expected SDP line {number} as <letter>=<text>, got something else"
            )
    return sdp
