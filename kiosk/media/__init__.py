"""The call media: aiortc peer connections, our tracks, and inbound liveness."""
