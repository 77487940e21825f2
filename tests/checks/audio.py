"""Audio for the checks: a running `AudioIO` on the private PulseAudio and a patient's voice
(espeak-ng) or other sounds played into the room's speaker sink from outside the kiosk."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from kiosk.devices.audio import AudioIO
from tests.support.pulse import PulseServer


@asynccontextmanager
async def running_audio(microphone: str = "", speaker: str = "") -> AsyncIterator[AudioIO]:
    audio = AudioIO(microphone, speaker)
    audio.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            (not microphone and audio.microphone_missing) or (not speaker and audio.speaker_missing)
        ):
            await asyncio.sleep(0.05)
        yield audio
    finally:
        await asyncio.to_thread(audio.stop)


async def say(pulse: PulseServer, words: str) -> None:
    """Speak `words` into the room (the speaker sink, whose monitor the microphone hears)."""
    env = {**os.environ, "PULSE_SERVER": pulse.server}
    speech = await asyncio.create_subprocess_exec(
        "espeak-ng", "--stdout", "-v", "nb", words, stdout=asyncio.subprocess.PIPE, env=env
    )
    wav, _ = await speech.communicate()
    player = await asyncio.create_subprocess_exec(
        "paplay", f"--device={pulse.speaker_sink}", stdin=asyncio.subprocess.PIPE, env=env
    )
    await player.communicate(wav)
    if speech.returncode or player.returncode:
        raise RuntimeError(
            f"expected espeak-ng and paplay to exit 0, got {speech.returncode} and "
            f"{player.returncode}"
        )
