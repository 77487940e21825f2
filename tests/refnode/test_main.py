"""`python -m kiosk.refnode`'s options."""

from __future__ import annotations

import pytest

from kiosk.refnode.__main__ import _args


def test_the_bot_sends_the_vga_pattern_unless_told_otherwise() -> None:
    assert _args(["--room", "123456:4321"]).bot_video == (640, 480, 15.0)
    args = _args(["--room", "123456:4321", "--bot-video", "1280x720@30"])
    assert args.bot_video == (1280, 720, 30.0)


@pytest.mark.parametrize("text", ["1280x720", "1280x720@0", "1280x720@60", "641x480@15", "big"])
def test_a_video_format_the_bot_cannot_send_is_refused(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        _args(["--room", "123456:4321", "--bot-video", text])
    assert f"got {text!r}" in capsys.readouterr().err
