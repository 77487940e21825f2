"""The real kiosk engine against a loopback node that answers with each hostile shape: it
stays alive, shows the patient a clear state, and nothing reaches a host behind a redirect."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack

from kiosk.cli.journey import knock
from kiosk.cli.wiring import running_engine
from kiosk.config import KioskConfig
from kiosk.engine.engine import Engine
from kiosk.media.call import Call, CallError
from kiosk.session import events as ev
from kiosk.session.state import ErrorKind, Phase
from tests.support.pulse import PulseServer

ALIAS = "739104"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hostile:
    """Answers request_token with `token_answer`; events with `events` if a token was given."""

    token_answer: Handler
    seen: list[str] = field(default_factory=list)
    events: Handler | None = None

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(request.path.rsplit("/", 1)[-1])
        if request.path.endswith("/request_token"):
            return await self.token_answer(request)
        if request.path.endswith("/events") and self.events is not None:
            return await self.events(request)
        return web.json_response({"status": "success", "result": None})


def _token(**patch: object) -> dict[str, object]:
    result: dict[str, object] = {
        "token": "t0k3n", "expires": "120", "participant_uuid": "p-1", "role": "GUEST",
        "service_type": "waiting_room", "current_service_type": "waiting_room",
        "stun": [{"url": "stun:stun.example.org:3478"}], "turn": [],
    }  # fmt: skip
    result.update(patch)
    return {"status": "success", "result": result}


async def _serve(app_handler: Handler) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", app_handler)
    async with TestServer(app, host="127.0.0.1") as server:
        yield str(server.make_url("")).rstrip("/")


@pytest.fixture
async def elsewhere() -> AsyncIterator[tuple[list[str], str]]:
    seen: list[str] = []

    async def record(request: web.Request) -> web.StreamResponse:
        seen.append(request.path)
        return web.json_response(_token())

    async for url in _serve(record):
        yield seen, url


def _redirect_to(url: str) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect(url + request.path)

    return answer


async def _bad_stun(request: web.Request) -> web.StreamResponse:
    return web.json_response(_token(stun=5))


async def _hundred_megabytes(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    await response.write(b'{"status": "success", "result": {"token": "')
    chunk = b"x" * 65536
    try:
        for _ in range(100 * 16):
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        pass
    return response


async def _good_token(request: web.Request) -> web.StreamResponse:
    return web.json_response(_token())


async def _endless_line(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    try:
        await response.write(b"event: participant_update\ndata: ")
        while True:  # never a line end, in small pieces, until the kiosk hangs up
            await response.write(b"y" * 64)
            await asyncio.sleep(0.001)
    except (ConnectionError, RuntimeError, asyncio.CancelledError):
        pass
    return response


async def _run(engine: Engine) -> list[str]:
    start = len(engine.record.phases)
    await knock(engine, ALIAS)
    await engine.wait_for(lambda s: s.phase is Phase.ERROR, 20)
    return engine.record.phases[start:]


async def _engine_against(url: str, pulse: PulseServer) -> AsyncIterator[Engine]:
    config = KioskConfig(
        camera="synthetic", node_url=url, allowed_hosts=("127.0.0.1",), clinic_phone="0"
    )
    async with running_engine(config) as engine:
        yield engine
        assert engine.task_failures == []


@pytest.mark.parametrize(
    ("shape", "error"),
    [("redirect", ErrorKind.PROTOCOL), ("bad_stun", ErrorKind.PROTOCOL),
     ("hundred_megabytes", ErrorKind.PROTOCOL)],
)  # fmt: skip
async def test_a_hostile_token_answer_ends_at_a_clear_error_and_the_kiosk_lives_on(
    pulse_server: PulseServer, elsewhere: tuple[list[str], str], shape: str, error: ErrorKind
) -> None:
    other_seen, other_url = elsewhere
    answer = {
        "redirect": _redirect_to(other_url),
        "bad_stun": _bad_stun,
        "hundred_megabytes": _hundred_megabytes,
    }[shape]
    node = Hostile(answer)
    async for url in _serve(node.handle):
        async for engine in _engine_against(url, pulse_server):
            phases = await _run(engine)
            assert phases == ["number", "checks", "joining", "error"]
            assert engine.state.error is error
            # Still alive: the patient can go back to the start and begin again.
            engine.send(ev.Dismiss())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 20)
    assert "request_token" in node.seen
    assert other_seen == []


async def test_an_endless_event_line_neither_stalls_the_kiosk_nor_fills_its_memory(
    pulse_server: PulseServer,
) -> None:
    node = Hostile(_good_token, events=_endless_line)
    async for url in _serve(node.handle):
        async for engine in _engine_against(url, pulse_server):
            start = len(engine.record.phases)
            await knock(engine, ALIAS)
            await engine.wait_for(lambda s: s.phase is Phase.JOINING, 20)
            # The loop stays responsive while the line drips: a tick comes back at once.
            loop = asyncio.get_running_loop()
            for _ in range(20):
                before = loop.time()
                await asyncio.sleep(0.05)
                assert loop.time() - before < 0.5
            engine.send(ev.Cancel())
            await engine.wait_for(lambda s: s.phase in (Phase.IDLE, Phase.WIPING), 20)
            assert engine.record.phases[start:][:3] == ["number", "checks", "joining"]
    assert "events" in node.seen


class _Quiet:
    def play(self, samples: object) -> None:
        pass

    def queued_s(self) -> float:
        return 0.0


def _spoil(sdp: str, prefix: str, replacement: str) -> str:
    lines = sdp.split("\r\n")
    index = next(i for i, line in enumerate(lines) if line.startswith(prefix))
    lines[index] = replacement
    return "\r\n".join(lines)


BAD_LINES = [
    ("m=audio", "m=audio x UDP/TLS/RTP/SAVPF 111"),
    ("m=video", "m=video 9"),
    ("c=", "c=IN IP4"),
    ("a=candidate", "a=candidate:1 1 udp"),
    ("a=rtpmap", "a=rtpmap:x"),
]


@pytest.mark.parametrize(("prefix", "replacement"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
async def test_an_sdp_with_a_bad_line_is_a_call_error_not_a_crash(
    prefix: str, replacement: str
) -> None:
    # A real far end makes the answer and the offer; one line of each is then spoiled.
    far = RTCPeerConnection()
    far.addTransceiver("audio", direction="sendrecv")
    far.addTransceiver("video", direction="sendrecv")
    call = Call(VideoStreamTrack(), AudioStreamTrack(), _Quiet())
    other = Call(VideoStreamTrack(), AudioStreamTrack(), _Quiet())
    try:
        await far.setRemoteDescription(RTCSessionDescription(await call.offer(), "offer"))
        await far.setLocalDescription(await far.createAnswer())
        answer = far.localDescription.sdp
        if prefix in answer:
            with pytest.raises(CallError, match="could not be used"):
                await call.accept_answer(_spoil(answer, prefix, replacement))
        offerer = RTCPeerConnection()
        offerer.addTransceiver("audio", direction="sendrecv")
        offerer.addTransceiver("video", direction="sendrecv")
        await offerer.setLocalDescription(await offerer.createOffer())
        offer = offerer.localDescription.sdp
        await offerer.close()
        assert prefix in offer or prefix in answer
        if prefix in offer:
            with pytest.raises(CallError, match="could not be used"):
                await other.answer(_spoil(offer, prefix, replacement))
    finally:
        await call.close()
        await other.close()
        await far.close()


async def test_an_unexpected_error_inside_a_consultation_ends_only_that_consultation(
    pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every shape above is now a named error; to reach the engine's last line of defence an
    # error no parser names is injected where the node's answer is read.
    from kiosk.pexip import client as client_module

    def broken(result: object) -> object:
        raise KeyError("a shape nobody foresaw")

    monkeypatch.setattr(client_module, "parse_token", broken)
    crashes: list[BaseException] = []
    node = Hostile(_good_token)
    async for url in _serve(node.handle):
        config = KioskConfig(
            camera="synthetic", node_url=url, allowed_hosts=("127.0.0.1",), clinic_phone="0"
        )
        async with running_engine(config, on_task_failure=crashes.append) as engine:
            phases = await _run(engine)
            assert phases == ["number", "checks", "joining", "error"]
            assert engine.state.error is ErrorKind.PROTOCOL
            engine.send(ev.Dismiss())
            await engine.wait_for(lambda s: s.phase is Phase.IDLE, 20)
            assert engine.task_failures == []
            assert engine.consultation_failures == 1
    assert crashes == []
