"""A server-sent events reader: a byte-fed parser plus an async wrapper over a body stream.

Follows the WHATWG event-stream rules for the fields the client API uses (`event`, `data`,
`id`, comments). An event whose data grows past `max_event_bytes` is dropped whole, so a
hostile node cannot make the kiosk buffer without bound.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

log = logging.getLogger(__name__)

DEFAULT_MAX_EVENT_BYTES = 256 * 1024
_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class SseMessage:
    event: str
    data: str
    id: str | None = None


class SseParser:
    """Feed bytes in any chunking; get whole messages out."""

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self._max = max_event_bytes
        self._buffer = bytearray()
        self._event = ""
        self._data: list[str] = []
        self._size = 0
        self._id: str | None = None
        self._oversized = False
        self._first_line = True
        self._skip_lf = False
        self._discard_line = False
        self.dropped = 0

    def feed(self, chunk: bytes) -> list[SseMessage]:
        out: list[SseMessage] = []
        if not chunk:
            return out  # an empty read must not forget a pending CR
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]  # the LF of a CRLF split across chunks
        self._skip_lf = False
        buf = self._buffer
        # Only the new bytes can hold a line end: the buffer before them was searched already,
        # so a line dripped in small chunks costs time linear in its length.
        scan = len(buf)
        buf += chunk
        start = 0
        while (match := _EOL.search(buf, scan)) is not None:
            line = bytes(buf[start : match.start()])
            if self._discard_line:
                self._discard_line = False
            else:
                message = self._line(line)
                if message is not None:
                    out.append(message)
            self._skip_lf = match.group() == b"\r" and match.end() == len(buf)
            start = scan = match.end()
        del buf[:start]
        if len(buf) > self._max or (self._discard_line and buf):
            # A line longer than any event may be: forget it up to its end.
            buf.clear()
            self._discard_line = True
            self._oversized = True
        return out

    def _line(self, raw: bytes) -> SseMessage | None:
        line = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep:
            value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._size += len(value) + 1
            if self._size > self._max:
                self._oversized = True
            elif not self._oversized:
                self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> SseMessage | None:
        event, data, oversized = self._event or "message", self._data, self._oversized
        self._event, self._data, self._size, self._oversized = "", [], 0, False
        if oversized:
            self.dropped += 1
            log.warning("dropped a server event larger than %d bytes", self._max)
            return None
        if not data:
            return None
        return SseMessage(event=event, data="\n".join(data), id=self._id)


async def read_sse(
    chunks: AsyncIterable[bytes], max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
) -> AsyncIterator[SseMessage]:
    """Yield messages from a stream of byte chunks (an aiohttp response's `content.iter_any()`)."""
    parser = SseParser(max_event_bytes)
    async for chunk in chunks:
        for message in parser.feed(chunk):
            yield message
