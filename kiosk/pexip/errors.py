"""What can go wrong talking to a node, as a handful of named errors, and the one place that
turns an HTTP status and body into them."""

from __future__ import annotations

import json
from typing import Any


class PexipError(Exception):
    """Base of every error the wire client raises."""


class NoSuchConference(PexipError):
    """The node answered 404 with a JSON body: it runs, but knows no such alias."""


class NoSuchNode(PexipError):
    """A 404 without a JSON body: whatever answered is not a conferencing node."""


class PinRequired(PexipError):
    """The conference wants a PIN; `guest_pin_required` says whether guests need one too."""

    def __init__(self, guest_pin_required: bool) -> None:
        super().__init__(
            "a PIN is required"
            + (" for guests as well" if guest_pin_required else " (guests may join without)")
        )
        self.guest_pin_required = guest_pin_required


class InvalidPin(PexipError):
    """The PIN given was refused."""


class InvalidToken(PexipError):
    """A request carrying a token got 403: the token expired or was never valid."""


class Maintenance(PexipError):
    """The node answered 503: it is in maintenance mode or overloaded."""


class HostNotAllowed(PexipError):
    """The URL points at a host outside the allow-list, or uses plain HTTP off loopback."""


class NodeUnreachable(PexipError):
    """Transport errors (or 502/504) persisted through every retry."""


class UntrustedNode(NodeUnreachable):
    """The node's TLS certificate did not verify against the trusted CAs; never retried."""


class ProtocolError(PexipError):
    """The node's answer does not have the shape the protocol promises."""


def _json_or_none(body: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def error_for_status(status: int, body: str, *, token_request: bool = False) -> PexipError:
    """Map a non-200 answer to a named error. `token_request` marks `request_token`, whose
    403 means a PIN problem rather than a bad token."""
    data = _json_or_none(body)
    result = data.get("result") if isinstance(data, dict) else None
    if status == 403 and token_request:
        if isinstance(result, dict):
            if result.get("pin") == "required":
                return PinRequired(guest_pin_required=result.get("guest_pin") == "required")
            keys = sorted(str(k) for k in result)[:5]
            return PexipError(f"request_token refused with 403 asking for {keys}, unsupported")
        return InvalidPin("request_token refused the PIN (403)")
    if status == 403:
        return InvalidToken("the node refused the token (403)")
    if status == 404:
        if data is not None:
            return NoSuchConference("the node knows no conference by that alias (404)")
        return NoSuchNode("expected a conferencing node, got a 404 without a JSON body")
    if status == 503:
        return Maintenance("the node is in maintenance mode (503)")
    if status in (502, 504):
        return NodeUnreachable(f"the node's gateway answered {status}")
    return PexipError(f"expected 200 from the node, got {status}")
