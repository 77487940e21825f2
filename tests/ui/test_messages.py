from __future__ import annotations

from kiosk.engine.view import DeviceNotice
from kiosk.session.state import CheckLine, CheckStatus, CheckSummary, ErrorKind
from kiosk.ui.messages import (
    ADVICE,
    ERRORS,
    NOTICE_CAMERA_SYNTHETIC,
    NOTICE_CAMERA_UNPLUGGED,
    NOTICE_MICROPHONE_SILENT,
    Action,
    check_lines,
    device_notices,
    format_elapsed,
)


def test_every_error_kind_says_what_and_offers_a_way_on() -> None:
    assert set(ERRORS) == set(ErrorKind)
    for kind, text in ERRORS.items():
        assert text.title and text.body, kind
        assert Action.TO_START in text.actions, kind


def test_knock_again_is_offered_only_where_the_machine_accepts_it() -> None:
    no_retry = {k for k, t in ERRORS.items() if Action.KNOCK_AGAIN not in t.actions}
    assert {ErrorKind.NOT_FOUND, ErrorKind.INVALID_PIN} <= no_retry


def test_check_lines_before_results_say_checking() -> None:
    lines = check_lines(None)
    assert [(line.name, line.status) for line in lines] == [
        ("Camera", CheckStatus.RUNNING),
        ("Microphone", CheckStatus.RUNNING),
        ("Sound", CheckStatus.RUNNING),
    ]


def test_check_lines_follow_the_summary_lines_and_fall_back_for_unknown_advice() -> None:
    summary = CheckSummary(
        camera_ok=True,
        microphone_ok=True,
        lines=(
            CheckLine("light", CheckStatus.WARN, "light.too_dark"),
            CheckLine("network", CheckStatus.FAIL, "network.something_new"),
        ),
    )
    assert [(line.name, line.advice, line.status) for line in check_lines(summary)] == [
        ("Light", ADVICE["light.too_dark"], CheckStatus.WARN),
        ("Network", "Does not work. Staff can help you.", CheckStatus.FAIL),
    ]


def test_a_summary_without_lines_still_tells_camera_and_microphone() -> None:
    summary = CheckSummary(
        camera_ok=True, microphone_ok=False, camera_synthetic=True, microphone_unheard=True
    )
    assert [(line.advice, line.status) for line in check_lines(summary)] == [
        (ADVICE["camera.synthetic"], CheckStatus.WARN),
        (ADVICE["microphone.silent"], CheckStatus.WARN),
        (ADVICE["speaker.ok"], CheckStatus.PASS),
    ]


def test_device_notices() -> None:
    assert device_notices(DeviceNotice()) == ()
    assert device_notices(DeviceNotice(camera_synthetic=True, microphone_missing=True)) == (
        NOTICE_CAMERA_SYNTHETIC,
        NOTICE_MICROPHONE_SILENT,
    )
    # An unplugged camera says so, not that there never was one.
    assert device_notices(DeviceNotice(camera_synthetic=True, camera_unplugged=True)) == (
        NOTICE_CAMERA_UNPLUGGED,
    )


def test_elapsed_time_reads_as_minutes_and_seconds() -> None:
    assert [format_elapsed(s) for s in (0, 9.9, 61, 899, 3725, -3)] == [
        "00:00",
        "00:09",
        "01:01",
        "14:59",
        "62:05",
        "00:00",
    ]
