"""The test chime and the single-frequency levels the speaker check listens for."""

from __future__ import annotations

import math

import numpy as np

from kiosk.devices.audio import SAMPLE_RATE
from kiosk.devices.ringbuffer import FLOOR_DBFS, Samples

# A two-note "ding-dong": two notes tell the chime apart from a hum or a whistle at one pitch.
CHIME_NOTES_HZ = (880.0, 1320.0)
NOTE_S = 0.2
CHIME_LEVEL = 0.3  # of full scale, about -10 dBFS: clear in a quiet room, not startling
FADE_S = 0.01


def chime(rate: int = SAMPLE_RATE) -> Samples:
    count = int(NOTE_S * rate)
    t = np.arange(count, dtype=np.float64) / rate
    fade = int(FADE_S * rate)
    envelope = np.ones(count)
    envelope[:fade] = np.linspace(0.0, 1.0, fade)
    envelope[-fade:] = np.linspace(1.0, 0.0, fade)
    notes = [np.sin(2 * math.pi * hz * t) * envelope for hz in CHIME_NOTES_HZ]
    wave = np.concatenate(notes) * CHIME_LEVEL * 32767
    return np.asarray(np.round(wave), dtype=np.int16)


def tone_dbfs(block: Samples, hz: float, rate: int = SAMPLE_RATE) -> float:
    """CheckStatus in dBFS of the `hz` component of `block` (a full-scale sine there reads 0).

    One DFT bin, as a Goertzel filter gives, with a Hann window so a strong tone nearby does
    not leak in."""
    if len(block) == 0:
        return FLOOR_DBFS
    x = block.astype(np.float64) / 32768.0
    window = np.hanning(len(x))
    phase = np.exp(-2j * math.pi * hz * np.arange(len(x)) / rate)
    amplitude = 2.0 * abs(complex(np.dot(x * window, phase))) / float(window.sum())
    return max(FLOOR_DBFS, 20 * math.log10(amplitude)) if amplitude > 0 else FLOOR_DBFS


def tone_levels(block: Samples, rate: int = SAMPLE_RATE) -> tuple[float, ...]:
    return tuple(tone_dbfs(block, hz, rate) for hz in CHIME_NOTES_HZ)
