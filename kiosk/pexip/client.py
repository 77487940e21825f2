"""The client REST API v2, as a tree that mirrors its URLs.

    client.conference(alias).participant(uuid).call(call_uuid).ack(token)

Every method is one request; tokens are passed explicitly. Transport errors and 502/504 are
retried a few times with a short backoff, nothing else is. Only hosts on the allow-list are
ever contacted, over HTTPS with certificate checks (plain HTTP only on loopback).
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import ssl
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from kiosk.base.hosts import is_loopback_host
from kiosk.pexip.answers import (
    CallAnswer,
    Token,
    calls_answer,
    parse_token,
    refreshed_token,
    update_answer,
)
from kiosk.pexip.errors import (
    HostNotAllowed,
    NodeUnreachable,
    PexipError,
    ProtocolError,
    UntrustedNode,
    error_for_status,
)
from kiosk.pexip.events import InfinityEvent, parse_event
from kiosk.pexip.sdp import checked_sdp
from kiosk.pexip.sse import DEFAULT_MAX_EVENT_BYTES, read_sse

log = logging.getLogger(__name__)

API_PREFIX = "/api/client/v2"
_RETRY_STATUSES = frozenset({502, 504})
# A request that creates something on the node (`request_token` a participant, `calls` a call)
# is retried only when it cannot have reached the node: a refused connection, or a 502 (the
# proxy found no node behind it). After a timeout, a dropped connection or a 504 the node may
# have done it, and a second try could put the same patient twice in the clinician's list.
_CREATING_RETRY_STATUSES = frozenset({502})
# Official clients wait long for `calls` and `ack`: the node may hold them while it sets up media.
_LONG_TIMEOUT_S = 62.0
_SHORT_TIMEOUT_S = 15.0
# PexRTC gives request_token 60 s (pexrtc.js 2245); it is never retried after a timeout.
_TOKEN_TIMEOUT_S = 60.0
# A node's JSON answers are a few kB (an SDP is the largest); anything past this is refused
# unread, so a hostile or broken node cannot make the kiosk buffer without bound.
MAX_BODY_BYTES = 1024 * 1024
_MAX_FIELD_CHARS = 16 * 1024
_MAX_ICE_SERVERS = 32


def check_url(url: str, allowed_hosts: Sequence[str]) -> str:
    """Return the URL's host if the kiosk may talk to it, else raise HostNotAllowed."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    allowed = {h.lower() for h in allowed_hosts}
    if host not in allowed:
        raise HostNotAllowed("the node's host is not on the allow-list")
    if parts.scheme == "https":
        return host
    if parts.scheme == "http" and is_loopback_host(host):
        return host
    raise HostNotAllowed(f"expected an https:// node URL, got scheme {parts.scheme!r}")


class InfinityClient:
    """One node. Owns its aiohttp session unless one is given."""

    def __init__(
        self,
        base_url: str,
        allowed_hosts: Sequence[str],
        session: aiohttp.ClientSession | None = None,
        *,
        retries: int = 5,
        backoff_s: float = 0.03,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        ca_file: str | None = None,
    ) -> None:
        check_url(base_url, allowed_hosts)
        # The system's CAs stay trusted; `ca_file` adds a hospital's own CA on top.
        self._ssl = ssl.create_default_context()
        if ca_file:
            self._ssl.load_verify_locations(cafile=ca_file)
        self._base = base_url.rstrip("/") + API_PREFIX
        self._session = session
        self._own_session = session is None
        self._retries = retries
        self._backoff_s = backoff_s
        self._max_event_bytes = max_event_bytes

    async def __aenter__(self) -> InfinityClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Certificates are always verified; there is no switch to turn that off.
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._ssl))
        return self._session

    async def status(self) -> None:
        """Raise unless the node answers 200 to its health check."""
        await self._request("GET", "/status", expect_json=False)

    async def reachable(self, timeout_s: float = 1.0) -> bool:
        """Whether the node answers at all right now: one `GET status` on a fresh
        connection (a pooled one may be a dead leftover of a cut), no retries, any HTTP
        answer counts. For telling when a network outage is over, not for its health."""
        try:
            async with (
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=self._ssl, force_close=True)
                ) as session,
                session.get(
                    self._base + "/status",
                    timeout=aiohttp.ClientTimeout(total=timeout_s),
                    allow_redirects=False,
                ) as response,
            ):
                return response.status > 0
        except (aiohttp.ClientError, TimeoutError, OSError, ssl.SSLError):
            return False

    def conference(self, alias: str) -> ConferenceStep:
        if not alias or "/" in alias:
            raise ValueError("alias must be a non-empty path segment")
        return ConferenceStep(self, f"/conferences/{quote(alias, safe='')}")

    async def _request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        pin: str | None = None,
        body: dict[str, Any] | None = None,
        token_request: bool = False,
        timeout_s: float = _SHORT_TIMEOUT_S,
        expect_json: bool = True,
        creates: bool = False,
    ) -> Any:
        headers: dict[str, str] = {}
        if token is not None:
            headers["token"] = token
        if pin is not None:
            headers["pin"] = pin.strip() or "none"
        url = self._base + path
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        last: str = ""
        for attempt in range(self._retries + 1):
            if attempt:
                # Doubling from 30 ms: a burst of three gateway errors costs a patient who
                # knocks a fifth of a second of waiting, and five retries still span most of a
                # second.
                await asyncio.sleep(self._backoff_s * 2 ** (attempt - 1))
            try:
                async with self._http().request(
                    method, url, headers=headers, json=body, timeout=timeout, allow_redirects=False
                ) as response:
                    status = response.status
                    refuse_redirect(status, path)
                    text = await read_bounded(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                if isinstance(exc, aiohttp.ClientConnectorCertificateError | ssl.SSLError):
                    raise _untrusted(exc) from exc
                if isinstance(exc, aiohttp.ClientResponseError | aiohttp.InvalidURL):
                    raise ProtocolError(f"malformed HTTP answer: {type(exc).__name__}") from exc
                last = type(exc).__name__
                if creates and not isinstance(exc, aiohttp.ClientConnectorError):
                    break
                continue
            if status in (_CREATING_RETRY_STATUSES if creates else _RETRY_STATUSES):
                last = f"HTTP {status}"
                continue
            if status in _RETRY_STATUSES:
                raise error_for_status(status, text, token_request=token_request)
            if status != 200:
                raise error_for_status(status, text, token_request=token_request)
            if not expect_json:
                return None
            return _result_of(text, path)
        raise NodeUnreachable(
            f"expected an answer from the node, got {last} after {attempt + 1} tries"
        )


def refuse_redirect(status: int, path: str) -> None:
    """A redirect would leave the allow-list with the PIN, the token and the meeting number:
    it is a protocol error, never followed."""
    if 300 <= status < 400:
        raise ProtocolError(f"expected an answer from {_endpoint(path)}, got a redirect {status}")


async def read_bounded(response: aiohttp.ClientResponse, limit: int = MAX_BODY_BYTES) -> str:
    """The body as text, refused by its Content-Length or while reading once past `limit`."""
    length = response.content_length
    if length is not None and length > limit:
        raise ProtocolError(
            f"expected an answer of at most {limit} bytes, got one larger than that"
        )
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body += chunk
        if len(body) > limit:
            response.close()
            raise ProtocolError(
                f"expected an answer of at most {limit} bytes, got one larger than that"
            )
    return body.decode(_codec(response.charset), errors="replace")


def _codec(charset: str | None) -> str:
    try:
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"


def _untrusted(exc: BaseException) -> UntrustedNode:
    return UntrustedNode(
        f"expected a certificate that verifies against the trusted CAs, got {type(exc).__name__}"
    )


def _result_of(text: str, path: str) -> Any:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError(f"expected JSON from {_endpoint(path)}, got something else") from None
    if not isinstance(data, dict) or "result" not in data:
        raise ProtocolError(f"expected an object with result from {_endpoint(path)}")
    return data["result"]


def _endpoint(path: str) -> str:
    """The last path segment, which names the endpoint without any identifier in it."""
    return path.rsplit("/", 1)[-1]


class ConferenceStep:
    def __init__(self, client: InfinityClient, path: str) -> None:
        self._client = client
        self._path = path

    async def request_token(
        self,
        display_name: str,
        pin: str | None = None,
        direct_media: bool = False,
        call_tag: str | None = None,
        one_time_token: str | None = None,
    ) -> Token:
        """`pin=None` sends no PIN; a blank PIN is sent as `pin: none` (joining as guest).
        `one_time_token` is the token of a `refer` event, sent as the body field `token`."""
        body: dict[str, Any] = {"display_name": display_name, "direct_media": direct_media}
        if call_tag is not None:
            body["call_tag"] = call_tag
        if one_time_token is not None:
            body["token"] = one_time_token
        result = await self._client._request(
            "POST",
            self._path + "/request_token",
            pin=pin,
            body=body,
            token_request=True,
            timeout_s=_TOKEN_TIMEOUT_S,
            creates=True,
        )
        return parse_token(result)

    async def refresh_token(self, token: Token) -> Token:
        result = await self._client._request(
            "POST", self._path + "/refresh_token", token=token.token
        )
        return refreshed_token(token, result)

    async def release_token(self, token: Token, reason: str | None = None) -> None:
        """`reason` is sent as PexRTC does (`{reason}`); it must never carry personal data."""
        body = None if reason is None else {"reason": reason}
        await self._client._request(
            "POST", self._path + "/release_token", token=token.token, body=body
        )

    async def lock(self, token: Token) -> None:
        await self._client._request("POST", self._path + "/lock", token=token.token)

    async def unlock(self, token: Token) -> None:
        await self._client._request("POST", self._path + "/unlock", token=token.token)

    async def events(self, token: Token) -> AsyncIterator[InfinityEvent]:
        """The event stream; ends when the node closes it. Transport errors raise
        NodeUnreachable (no retry: reconnecting is the caller's policy)."""
        client = self._client
        url = client._base + self._path + "/events"
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=_SHORT_TIMEOUT_S)
        try:
            async with client._http().get(
                url, headers={"token": token.token}, timeout=timeout, allow_redirects=False
            ) as response:
                refuse_redirect(response.status, self._path + "/events")
                if response.status != 200:
                    text = await read_bounded(response)
                    raise error_for_status(response.status, text)
                async for message in read_sse(response.content.iter_any(), client._max_event_bytes):
                    yield parse_event(message.event, message.data)
        except PexipError:
            raise
        except (aiohttp.ClientConnectorCertificateError, ssl.SSLError) as exc:
            raise _untrusted(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NodeUnreachable(f"event stream broke: {type(exc).__name__}") from exc

    def participant(self, uuid: str) -> ParticipantStep:
        if not uuid or "/" in uuid:
            raise ValueError("participant uuid must be a non-empty path segment")
        return ParticipantStep(self._client, f"{self._path}/participants/{quote(uuid, safe='')}")


class ParticipantStep:
    def __init__(self, client: InfinityClient, path: str) -> None:
        self._client = client
        self._path = path

    async def calls(self, token: Token, sdp: str, call_type: str = "WEBRTC") -> CallAnswer:
        result = await self._client._request(
            "POST",
            self._path + "/calls",
            token=token.token,
            body={"call_type": call_type, "sdp": sdp},
            timeout_s=_LONG_TIMEOUT_S,
            creates=True,
        )
        return calls_answer(result)

    async def unlock(self, token: Token) -> None:
        """Let this participant in from the waiting room (hosts only)."""
        await self._client._request("POST", self._path + "/unlock", token=token.token)

    async def disconnect(self, token: Token) -> None:
        await self._client._request("POST", self._path + "/disconnect", token=token.token)

    def call(self, call_uuid: str) -> CallStep:
        if not call_uuid or "/" in call_uuid:
            raise ValueError("call uuid must be a non-empty path segment")
        return CallStep(self._client, f"{self._path}/calls/{quote(call_uuid, safe='')}")


class CallStep:
    def __init__(self, client: InfinityClient, path: str) -> None:
        self._client = client
        self._path = path

    async def ack(self, token: Token, sdp: str | None = None) -> None:
        body = None if sdp is None else {"sdp": sdp}
        await self._client._request(
            "POST", self._path + "/ack", token=token.token, body=body, timeout_s=_LONG_TIMEOUT_S
        )

    async def update(self, token: Token, sdp: str) -> str:
        """The answer SDP, or "" when the node ignored the offer (direct media: the far end's
        offer follows as a `new_offer`/`update_sdp` event)."""
        result = await self._client._request(
            "POST", self._path + "/update", token=token.token, body={"sdp": sdp}
        )
        answer = update_answer(result)
        return checked_sdp(answer) if answer else ""

    async def disconnect(self, token: Token) -> None:
        await self._client._request("POST", self._path + "/disconnect", token=token.token)
