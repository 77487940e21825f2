"""What a patient would see as broken in a laid-out window: a word split across two lines, text
running out of its widget, a widget pushed out of its box or off the screen.

`broken_words` is pure (text and the lines Kivy laid it out in); `layout_defects` walks the
widgets of the current screen and overlays of a running app.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

# A line may end at a space (dropped by the layout), at a newline, or after a hyphen or dash.
_BREAK_AFTER = ("-", "\u2010", "\u2013")
# A no-break space is not a place to break ("til …" stays together).
_SPACES = " \n\t"

# Kivy places text with whole pixels; a pixel either way is rounding, not overflow.
SLACK_PX = 1.5


@dataclass(frozen=True)
class Defect:
    where: str
    widget: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.widget}: {self.problem}"


def broken_words(text: str, lines: Sequence[str]) -> list[str]:
    """Each place where `lines` (the text as laid out) break `text` inside a word, shown as
    'legitimasjo|n'. A line that is not found in the text is reported too."""
    problems: list[str] = []
    pos = 0
    for index, line in enumerate(lines):
        content = line.strip()
        if not content:
            continue
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if not text.startswith(content, pos):
            problems.append(f"line {content!r} does not follow {text[:pos]!r}")
            return problems
        pos += len(content)
        last = index == len(lines) - 1 or all(not rest.strip() for rest in lines[index + 1 :])
        if last or pos >= len(text):
            continue
        if text[pos] in _SPACES or content.endswith(_BREAK_AFTER):
            continue
        start = text.rfind(" ", 0, pos) + 1
        end = len(text) if text.find(" ", pos) < 0 else text.find(" ", pos)
        problems.append(f"{text[start:pos]}|{text[pos:end]}")
    return problems


def laid_out_lines(label: Any) -> list[str]:
    """The lines a Kivy label drew its text in."""
    core = label._label
    lines = getattr(core, "_cached_lines", None) or []
    return ["".join(word.text for word in line.words) for line in lines]


def shown(widget: Any) -> bool:
    """Drawn and visible: neither it nor any parent is transparent or collapsed to nothing."""
    while widget is not None and widget.parent is not widget:
        if getattr(widget, "opacity", 1) == 0:
            return False
        widget = widget.parent
    return True


def _name(widget: Any) -> str:
    for owner in _owners(widget):
        for key, value in owner.ids.items():
            if value is widget:
                return key
    text = getattr(widget, "text", "")
    return f"{type(widget).__name__} {text[:30]!r}"


def _owners(widget: Any) -> Iterator[Any]:
    node = widget.parent
    while node is not None and node.parent is not node:
        if getattr(node, "ids", None):
            yield node
        node = node.parent


def _window_rect(widget: Any) -> tuple[float, float, float, float]:
    x, y = widget.to_window(widget.x, widget.y)
    return x, y, x + widget.width, y + widget.height


def text_defects(label: Any) -> list[str]:
    """A label's own problems: words split across lines, text larger than the widget."""
    from kivy.uix.label import Label

    if not isinstance(label, Label) or not label.text or getattr(label, "shorten", False):
        return []
    problems = [f"word broken: {b}" for b in broken_words(label.text, laid_out_lines(label))]
    inner_w, inner_h = getattr(label._label, "_internal_size", (0, 0))
    width = label.text_size[0] if label.text_size[0] is not None else label.width
    if inner_w > min(width, label.width) + SLACK_PX or inner_h > label.height + SLACK_PX:
        problems.append(
            f"text {inner_w:.0f}x{inner_h:.0f} overflows its {label.width:.0f}x"
            f"{label.height:.0f} widget"
        )
    return problems


def layout_defects(
    roots: Sequence[Any], window_size: tuple[int, int], where: str, least_font: float = 0.0
) -> list[Defect]:
    """Every problem in the shown widgets under `roots`; with `least_font`, text smaller than
    that too."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.label import Label

    width, height = window_size
    found: list[Defect] = []
    for root in roots:
        for widget in root.walk(restrict=True):
            if not shown(widget):
                continue
            has_text = isinstance(widget, Label) and bool(widget.text)
            for problem in text_defects(widget):
                found.append(Defect(where, _name(widget), problem))
            if not has_text:
                continue
            if widget.font_size < least_font - 0.5:
                found.append(
                    Defect(
                        where,
                        _name(widget),
                        f"type of {widget.font_size:.1f} px, under the least {least_font:.1f} px",
                    )
                )
            x0, y0, x1, y1 = _window_rect(widget)
            if x0 < -SLACK_PX or y0 < -SLACK_PX or x1 > width + SLACK_PX or y1 > height + SLACK_PX:
                found.append(
                    Defect(
                        where,
                        _name(widget),
                        f"at {x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f}, off the {width}x{height} window",
                    )
                )
                continue
            parent = widget.parent
            if isinstance(parent, BoxLayout | GridLayout) and shown(parent):
                px0, py0, px1, py1 = _window_rect(parent)
                if (
                    x0 < px0 - SLACK_PX
                    or y0 < py0 - SLACK_PX
                    or x1 > px1 + SLACK_PX
                    or y1 > py1 + SLACK_PX
                ):
                    found.append(
                        Defect(
                            where,
                            _name(widget),
                            f"at {x0:.0f},{y0:.0f}-{x1:.0f},{y1:.0f}, outside its box "
                            f"{px0:.0f},{py0:.0f}-{px1:.0f},{py1:.0f}",
                        )
                    )
    return found
