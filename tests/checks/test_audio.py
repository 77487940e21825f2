"""Microphone and speaker checks through real PortAudio on the PulseAudio null sink."""

from __future__ import annotations

import asyncio

import numpy as np

from kiosk.base.status import CheckStatus
from kiosk.checks.live import DeviceChecks
from kiosk.checks.microphone import longest_full_scale_run
from kiosk.checks.tones import CHIME_NOTES_HZ, chime, tone_dbfs
from kiosk.devices.audio import AudioIO
from scenes.render import SceneSpec
from tests.checks.audio import running_audio, say
from tests.checks.scenes import live, running_hub, sample
from tests.support.pulse import PulseServer

SAY = (CheckStatus.RUNNING, "microphone.say_something")


async def listen(audio: AudioIO, seconds: float, *, chime_too: bool) -> DeviceChecks:
    async with running_hub(live(SceneSpec(seed=1))) as hub:
        checks = DeviceChecks(hub, audio)
        jobs = [checks.pump_microphone()] + ([checks.play_chime()] if chime_too else [])
        tasks = [asyncio.create_task(job) for job in jobs]
        try:
            await sample(checks.report, seconds)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return checks


async def test_the_chime_is_heard_and_not_taken_for_the_patients_voice(
    pulse_server: PulseServer,
) -> None:
    async with running_audio() as audio:
        checks = await listen(audio, 2.0, chime_too=True)
    assert checks.speaker.history.changes == [
        (CheckStatus.RUNNING, "speaker.playing"),
        (CheckStatus.PASS, "speaker.ok"),
    ]
    margins = [checks.speaker.result().figure(f"margin_{int(hz)}_db") for hz in CHIME_NOTES_HZ]
    assert all(m is not None and m > 30 for m in margins), margins
    assert checks.microphone.history.changes == [SAY]


async def test_a_muted_speaker_is_not_heard_and_the_patient_is_asked(
    pulse_server: PulseServer,
) -> None:
    pulse_server.pactl("set-sink-mute", pulse_server.speaker_sink, "1")
    try:
        async with running_audio() as audio:
            checks = await listen(audio, 3.6, chime_too=True)
    finally:
        pulse_server.pactl("set-sink-mute", pulse_server.speaker_sink, "0")
    assert checks.speaker.history.changes == [
        (CheckStatus.RUNNING, "speaker.playing"),
        (CheckStatus.WARN, "speaker.confirm"),
    ]
    assert checks.speaker.busy is False


async def test_a_missing_speaker_fails(pulse_server: PulseServer) -> None:
    async with running_audio(speaker="no such speaker") as audio:
        checks = await listen(audio, 0.8, chime_too=True)
    assert checks.speaker.history.changes == [
        (CheckStatus.RUNNING, "speaker.playing"),
        (CheckStatus.FAIL, "speaker.missing"),
    ]


async def test_the_patient_is_asked_to_speak_until_heard(pulse_server: PulseServer) -> None:
    async with running_audio() as audio, running_hub(live(SceneSpec(seed=1))) as hub:
        checks = DeviceChecks(hub, audio)
        pump = asyncio.create_task(checks.pump_microphone())
        try:
            await sample(checks.report, 0.6)
            quiet = checks.report().get("microphone")
            await say(pulse_server, "Hei, kan du høre meg?")
            await sample(checks.report, 0.5)
            heard = checks.report().get("microphone")
        finally:
            pump.cancel()
    assert quiet.status is CheckStatus.RUNNING and quiet.advice == "microphone.say_something"
    assert checks.microphone.history.changes == [SAY, (CheckStatus.PASS, "microphone.ok")]
    peak = heard.figure("peak_dbfs")
    assert peak is not None and peak > -40


async def test_clipping_is_flagged(pulse_server: PulseServer) -> None:
    async with running_audio() as audio, running_hub(live(SceneSpec(seed=1))) as hub:
        checks = DeviceChecks(hub, audio)
        pump = asyncio.create_task(checks.pump_microphone())
        try:
            await sample(checks.report, 0.5)
            # A shout that overdrives the microphone: flat tops at full scale.
            shout = np.clip(chime().astype(np.int32) * 8, -32768, 32767).astype(np.int16)
            audio.play(shout)
            await sample(checks.report, 1.0)
        finally:
            pump.cancel()
    assert checks.microphone.history.changes == [SAY, (CheckStatus.WARN, "microphone.clipping")]


async def test_a_missing_microphone_fails(pulse_server: PulseServer) -> None:
    async with running_audio(microphone="no such microphone") as audio:
        checks = await listen(audio, 1.6, chime_too=True)
    assert checks.microphone.history.changes == [(CheckStatus.FAIL, "microphone.missing")]
    # Without a microphone the kiosk cannot hear its own chime: the patient is asked.
    assert checks.speaker.history.changes == [
        (CheckStatus.RUNNING, "speaker.playing"),
        (CheckStatus.WARN, "speaker.confirm"),
    ]


def test_full_scale_runs_are_counted_across_blocks() -> None:
    top = np.int16(32767)
    block = np.array([0, top, top, top, 5, top, top], np.int16)
    assert longest_full_scale_run(block) == (3, 2)
    following = np.array([top, top, top, top, 0], np.int16)
    assert longest_full_scale_run(following, carried=2) == (6, 0)
    assert longest_full_scale_run(np.zeros(10, np.int16)) == (0, 0)


def test_tone_levels_read_a_full_scale_sine_as_zero_dbfs() -> None:
    t = np.arange(960) / 48_000
    sine = np.round(np.sin(2 * np.pi * 880 * t) * 32767).astype(np.int16)
    assert abs(tone_dbfs(sine, 880) - 0.0) < 0.5
    assert tone_dbfs(sine, 1320) < -40
