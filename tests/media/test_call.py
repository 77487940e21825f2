"""A Call against a plain aiortc answerer in the same process, real PortAudio on the side."""

from __future__ import annotations

import asyncio
import time

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from kiosk.devices.audio import BLOCK, SAMPLE_RATE, AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.media.call import Call, CallError
from kiosk.media.ice import IceConfig
from kiosk.media.signaling import connect
from kiosk.media.tracks import CameraVideoTrack, MicrophoneAudioTrack
from tests.support.pulse import PulseServer


class ToneTrack(MediaStreamTrack):
    """The far end's voice: a 1 kHz tone at -10 dBFS peak, in real time."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._n = 0
        self._start = time.monotonic()

    async def recv(self) -> av.AudioFrame:
        due = self._start + self._n * BLOCK / SAMPLE_RATE
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        t = (np.arange(BLOCK) + self._n * BLOCK) / SAMPLE_RATE
        samples = (np.sin(2 * np.pi * 1000 * t) * 0.3 * 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._n * BLOCK
        self._n += 1
        return frame


class FarEnd:
    """A plain aiortc peer that answers, sends a tone and a picture, and keeps what it gets."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection()
        self.hub = CameraHub(SyntheticCamera(160, 120, fps=15.0), synthetic=True)
        self.video_frames = 0
        self.audio: list[np.ndarray] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.tasks.append(asyncio.get_running_loop().create_task(self._consume(track)))

    async def _consume(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if isinstance(frame, av.VideoFrame):
                self.video_frames += 1
            elif isinstance(frame, av.AudioFrame):
                self.audio.append(frame.to_ndarray().reshape(-1, len(frame.layout.channels))[:, 0])

    async def send_offer(self, sdp: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        self.hub.start()
        self.pc.addTrack(ToneTrack())
        self.pc.addTrack(CameraVideoTrack(self.hub))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return str(self.pc.localDescription.sdp)

    acked = False

    async def ack(self) -> None:
        self.acked = True

    async def hang_up(self) -> None:
        pass

    async def close(self) -> None:
        await self.pc.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.hub.stop()


def dominant_hz(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float32) * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * SAMPLE_RATE / len(samples))


async def test_call_exchanges_video_and_audio_and_closes_clean(
    pulse_server: PulseServer,
) -> None:
    tasks_before = asyncio.all_tasks()
    hub = CameraHub(SyntheticCamera(320, 240, fps=15.0), synthetic=True)
    hub.start()
    audio = AudioIO("pulse", "pulse")
    audio.start()
    far = FarEnd()
    camera_track = CameraVideoTrack(hub)
    call = Call(camera_track, MicrophoneAudioTrack(audio), audio)
    try:
        offer = await call.offer()
        # Complete before it is sent: candidates inside, audio then video, both ways.
        assert "a=candidate:" in offer
        assert offer.index("m=audio") < offer.index("m=video")
        assert offer.count("a=sendrecv") == 2

        started = call.created_at
        await connect(call, far)
        assert far.acked
        first = await call.wait_first_video(timeout=10)
        assert 0 < first - started < 5
        # The meter shows the newest 20 ms block only: sample it over the two seconds, so a
        # single underrun on a loaded machine does not read as silence.
        heard = []
        video_at_first = call.remote_video_frames
        audio_at_first = call.remote_audio_frames
        window_started = time.monotonic()
        while time.monotonic() - window_started < 2.0:
            await asyncio.sleep(0.05)
            heard.append(audio.level.rms_dbfs)
        window = time.monotonic() - window_started
        received_video = call.remote_video_frames
        received_audio = call.remote_audio_frames
        video_fps = (received_video - video_at_first) / window
        audio_fps = (received_audio - audio_at_first) / window
        latest = call.latest_remote_frame()
        counters = await call.inbound()
    finally:
        await call.close()
        await far.close()
        audio.stop()
        hub.stop()

    assert 11 <= video_fps <= 19, f"{video_fps:.1f} fps from a 15 fps far end"
    assert 40 <= audio_fps <= 60, f"{audio_fps:.1f} audio frames/s, 50 expected"
    assert counters.video_frames >= received_video  # sampled a moment later
    assert counters.audio_packets >= received_audio
    assert counters.video_packets >= received_video
    assert latest is not None
    seq, rgb = latest
    assert seq == received_video
    assert rgb.shape == (120, 160, 3) and rgb.dtype == np.uint8
    assert call.latest_remote_frame() is None  # forgotten at close
    # The far end's tone was played by the speaker and heard back on the null sink's monitor.
    assert sorted(heard)[len(heard) // 2] > -25, f"speaker levels heard back: {heard}"
    # ... and our microphone sent it back to the far end.
    echoed = np.concatenate(far.audio[-50:])
    assert np.sqrt(np.mean((echoed / 32768.0) ** 2)) > 0.05
    assert dominant_hz(echoed) == pytest.approx(1000, abs=20)
    assert far.video_frames >= 20
    # One conversion per captured frame, none for a repeated one.
    assert camera_track.conversions <= far.video_frames + 5
    assert call.connection_states == ["new", "connecting", "connected", "closed"]
    await asyncio.sleep(0.1)
    leftover = {t for t in asyncio.all_tasks() - tasks_before if not t.done()}
    leftover.discard(asyncio.current_task())
    assert leftover == set()


async def test_direct_media_answer_and_misuse() -> None:
    hub = CameraHub(SyntheticCamera(160, 120, fps=15.0), synthetic=True)

    class Silence:
        def read_mic(self, count: int = BLOCK) -> np.ndarray:
            return np.zeros(count, np.int16)

        def play(self, samples: np.ndarray) -> None:
            pass

        def queued_s(self) -> float:
            return 0.0

    offerer = RTCPeerConnection()
    offerer.addTransceiver("audio", direction="sendrecv")
    offerer.addTransceiver("video", direction="sendrecv")
    await offerer.setLocalDescription(await offerer.createOffer())
    call = Call(CameraVideoTrack(hub), MicrophoneAudioTrack(Silence()), Silence())
    try:
        with pytest.raises(CallError, match="expected an answer after our offer"):
            await call.accept_answer(offerer.localDescription.sdp)
        answer = await call.answer(offerer.localDescription.sdp)
        assert answer.count("a=sendrecv") == 2
    finally:
        await call.close()
        await offerer.close()
    with pytest.raises(CallError, match="call is closed"):
        await call.offer()


def test_ice_config() -> None:
    ice = IceConfig.from_lists(
        ["stun:stun.example.org:3478"],
        [
            ("turn:turn.example.org:3478?transport=udp", "u", "p"),
            ("turns:turn.example.org:443?transport=tcp", "u", "p"),
        ],
        relay_only=True,
    )
    config = ice.rtc_configuration()
    assert config.iceTransportPolicy.value == "relay"
    assert [s.urls for s in config.iceServers or []] == [
        "stun:stun.example.org:3478",
        "turn:turn.example.org:3478?transport=udp",
    ]
    rotated = ice.next_turn()
    assert rotated.turn is not None and rotated.turn.url.startswith("turns:")
    assert rotated.next_turn() == ice
    with pytest.raises(ValueError, match="relay_only needs at least one TURN url"):
        IceConfig(relay_only=True)
    with pytest.raises(ValueError, match=r"TURN url must start with turn: or turns: \(got 'x'\)"):
        IceConfig.from_lists(turn=[("x", "", "")])
    assert IceConfig().rtc_configuration().iceServers == []
