"""Colours and sizes of the whole UI, in one place; the KV files read them through `app.theme`.

High contrast (WCAG 2.1 AA), large type and touch targets an elderly finger can hit. The
contrast test walks `TEXT_PAIRS`, so every text/background pairing the KV files use is listed.
"""

from __future__ import annotations

from dataclasses import dataclass

Rgba = tuple[float, float, float, float]


def hex_rgba(value: str) -> Rgba:
    """'#rrggbb' as Kivy's 0..1 RGBA."""
    if len(value) != 7 or not value.startswith("#"):
        raise ValueError(f"colour must look like #rrggbb (got {value!r})")
    r, g, b = (int(value[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    return (r, g, b, 1.0)


class Theme:
    """Class attributes, read-only by convention; one instance is shared as `THEME`."""

    background: Rgba = hex_rgba("#0d1b2a")  # deep calm blue
    surface: Rgba = hex_rgba("#1b2f45")  # cards, number boxes
    key: Rgba = hex_rgba("#26415f")  # number keys and ordinary buttons
    key_pressed: Rgba = hex_rgba("#3a5f86")
    primary: Rgba = hex_rgba("#f2f5f8")  # the one button that moves the patient forward
    primary_text: Rgba = hex_rgba("#0d1b2a")
    disabled: Rgba = hex_rgba("#1b2f45")
    disabled_text: Rgba = hex_rgba("#8da2b8")
    text: Rgba = hex_rgba("#ffffff")
    text_muted: Rgba = hex_rgba("#c6d4e1")
    ok: Rgba = hex_rgba("#8ee6a0")
    warn: Rgba = hex_rgba("#ffd866")
    fail: Rgba = hex_rgba("#ff9e9e")
    end_button: Rgba = hex_rgba("#ffcc00")  # the clinic's "gul knapp"
    end_text: Rgba = hex_rgba("#000000")
    notice: Rgba = hex_rgba("#5c4300")  # device notices banner
    notice_text: Rgba = hex_rgba("#ffffff")
    recording: Rgba = hex_rgba("#9b1c1c")
    recording_text: Rgba = hex_rgba("#ffffff")
    video_backdrop: Rgba = hex_rgba("#000000")
    guide: Rgba = hex_rgba("#ffcc00")
    guide_good: Rgba = hex_rgba("#3ddc84")  # the card is readable
    overlay: Rgba = (0.02, 0.05, 0.09, 0.94)  # behind the idle warning

    # Sizes in sp (type) and dp (everything else).
    font_huge: float = 64
    font_title: float = 44
    font_body: float = 32
    font_small: float = 26
    font_key: float = 56
    key_size: float = 120
    button_height: float = 100
    button_min_width: float = 220
    end_button_width: float = 300
    padding: float = 32
    spacing: float = 20
    radius: float = 18
    self_view_width: float = 320


THEME = Theme()


@dataclass(frozen=True)
class TextPair:
    name: str
    foreground: Rgba
    background: Rgba
    large: bool  # WCAG "large text": at least 18 pt, or 14 pt bold


# Every text colour on every background it is drawn on.
TEXT_PAIRS: tuple[TextPair, ...] = (
    TextPair("body", THEME.text, THEME.background, False),
    TextPair("muted", THEME.text_muted, THEME.background, False),
    TextPair("body on surface", THEME.text, THEME.surface, False),
    TextPair("muted on surface", THEME.text_muted, THEME.surface, False),
    TextPair("key", THEME.text, THEME.key, True),
    TextPair("key pressed", THEME.text, THEME.key_pressed, True),
    TextPair("primary", THEME.primary_text, THEME.primary, True),
    TextPair("disabled", THEME.disabled_text, THEME.disabled, True),
    TextPair("check ok", THEME.ok, THEME.background, False),
    TextPair("check warn", THEME.warn, THEME.background, False),
    TextPair("check fail", THEME.fail, THEME.background, False),
    TextPair("end button", THEME.end_text, THEME.end_button, True),
    TextPair("notice", THEME.notice_text, THEME.notice, False),
    TextPair("recording", THEME.recording_text, THEME.recording, False),
    TextPair("text over video", THEME.text, THEME.video_backdrop, False),
    TextPair("connection good", THEME.ok, THEME.video_backdrop, False),
    TextPair("connection fair", THEME.warn, THEME.video_backdrop, False),
    TextPair("connection poor", THEME.fail, THEME.video_backdrop, False),
    TextPair("notice on background", THEME.warn, THEME.background, False),
    TextPair("idle warning", THEME.text, THEME.overlay, False),
)


def _linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: Rgba) -> float:
    r, g, b = (_linear(c) for c in colour[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: Rgba, b: Rgba) -> float:
    """WCAG 2.1 contrast ratio, 1..21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)
