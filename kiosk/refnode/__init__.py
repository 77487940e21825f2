"""A small Pexip-compatible conferencing node for the demo and tests, and a practitioner bot."""

from kiosk.refnode.room import RoomSpec
from kiosk.refnode.server import RefNode

__all__ = ["RefNode", "RoomSpec"]
