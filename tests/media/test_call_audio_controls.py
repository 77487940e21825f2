"""Volume and mute act on call audio at once: real PortAudio on a null sink, a real far end.

The far end's tone plays through the speaker into the null sink; its monitor is the microphone,
so the speaker's level is heard at the microphone, and what the microphone sends is what the
far end receives."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from kiosk.devices.audio import AudioIO
from kiosk.devices.camera import CameraHub
from kiosk.devices.synthetic import SyntheticCamera
from kiosk.media.call import Call
from kiosk.media.signaling import connect
from kiosk.media.tracks import CameraVideoTrack, MicrophoneAudioTrack
from tests.media.test_call import FarEnd
from tests.support.pulse import PulseServer


def dbfs(samples: np.ndarray) -> float:
    x = samples.astype(np.float64) / 32768.0
    return float(10 * np.log10(np.mean(x * x) + 1e-12))


async def test_volume_and_mute_change_call_audio_within_half_a_second(
    pulse_server: PulseServer,
) -> None:
    hub = CameraHub(SyntheticCamera(160, 120, fps=15.0), synthetic=True)
    hub.start()
    audio = AudioIO("pulse", "pulse")
    audio.start()
    far = FarEnd()
    call = Call(CameraVideoTrack(hub), MicrophoneAudioTrack(audio), audio)
    heard: list[tuple[str, float]] = []  # (phase, speaker level at the microphone)
    sent: list[tuple[str, float]] = []  # (phase, level the far end received)

    async def phase(name: str, seconds: float) -> None:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            await asyncio.sleep(0.1)
            heard.append((name, audio.level.rms_dbfs))
            if far.audio:
                sent.append((name, dbfs(far.audio[-1])))

    try:
        await connect(call, far)
        await call.wait_first_video(timeout=10)
        await phase("full", 1.5)
        audio.volume = 0.25
        await phase("quiet", 1.5)
        audio.muted = True
        await phase("muted", 1.5)
        audio.muted = False
        audio.volume = 1.0
        await phase("back", 1.5)
    finally:
        await call.close()
        await far.close()
        audio.stop()
        hub.stop()

    def settled(samples: list[tuple[str, float]], name: str) -> list[float]:
        values = [level for phase_name, level in samples if phase_name == name]
        return values[5:]  # from half a second after the change on

    full, quiet = settled(heard, "full"), settled(heard, "quiet")
    # A quarter of the amplitude is 12 dB down, at the speaker and so at the microphone.
    # Medians: on a loaded machine a single 20 ms block can be an underrun.
    assert np.median(full) > -25
    assert np.median(full) - np.median(quiet) > 9
    # Muted: the far end receives silence (Opus decodes it to near-zero), then sound again.
    assert max(settled(sent, "muted")) < -60
    assert np.median(settled(sent, "full")) > -40
    assert np.median(settled(sent, "back")) > -40
    assert [name for name, _ in heard][::15] == ["full", "quiet", "muted", "back"]
