"""What a redraw of the window asks the renderer to fill: every quad of every canvas, in
drawing order, with the owner's name, its area on the window, the alpha it is drawn with
(its colour's alpha times the opacities around it) and whether it only writes a stencil.

A software renderer (llvmpipe, on a terminal without a GPU driver) pays for each of those
pixels on every redraw, whether they can be seen or not: Kivy draws a widget at opacity 0
all the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Lines (the card guide, the spinner) and meshes are thin or small; quads hold the area.
QUADS = ("Rectangle", "RoundedRectangle", "BorderImage", "Ellipse")


@dataclass(frozen=True)
class Quad:
    owner: str
    kind: str
    area: float
    alpha: float
    stencil: bool

    def __str__(self) -> str:
        mode = " (stencil)" if self.stencil else ""
        size = f"{self.area / 1000:.0f}k px"
        return f"{self.owner}: {self.kind} of {size} at alpha {self.alpha:.2f}{mode}"


def _name(widget: Any) -> str:
    label = getattr(widget, "text", "")
    found = next((key for key, value in _ids_of(widget).items() if value is widget), None)
    return (
        f"{type(widget).__name__}"
        + (f"#{found}" if found else "")
        + (f" {label[:20]!r}" if isinstance(label, str) and label else "")
    )


def _ids_of(widget: Any) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    parent = widget.parent
    while parent is not None and hasattr(parent, "ids"):
        ids.update(parent.ids)
        parent = parent.parent
    return ids


class _Walk:
    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.alpha = 1.0  # the current colour's: Kivy keeps it from one canvas to the next
        self.stencil = False
        self.quads: list[Quad] = []

    def widget(self, widget: Any, opacity: float) -> None:
        canvas = widget.canvas
        opacity *= float(canvas.opacity)
        children = {id(child.canvas): child for child in widget.children}
        # `canvas.before` is the canvas's first child and `canvas.after` its last.
        self.group(canvas, widget, opacity, children)

    def group(self, group: Any, owner: Any, opacity: float, children: dict[int, Any]) -> None:
        for instruction in group.children:
            kind = type(instruction).__name__
            child = children.get(id(instruction))
            if child is not None:
                self.widget(child, opacity)
            elif kind == "Color":
                self.alpha = float(instruction.a)
            elif kind == "StencilPush":
                self.stencil = True
            elif kind == "StencilUse":
                self.stencil = False
            elif kind in QUADS:
                self.quad(instruction, kind, owner, opacity)
            elif hasattr(instruction, "children"):
                self.group(instruction, owner, opacity, children)

    def quad(self, instruction: Any, kind: str, owner: Any, opacity: float) -> None:
        (x, y), (w, h) = instruction.pos, instruction.size
        # The part on the window (a widget's own coordinates are the window's here: no
        # relative layouts on these screens).
        w = max(0.0, min(x + w, self.width) - max(x, 0.0))
        h = max(0.0, min(y + h, self.height) - max(y, 0.0))
        if w * h > 0:
            alpha = 1.0 if self.stencil else self.alpha * opacity
            self.quads.append(Quad(_name(owner), kind, w * h, alpha, self.stencil))


def quads(window: Any) -> list[Quad]:
    """Every quad a redraw of `window` (Kivy's Window) fills, in drawing order."""
    walk = _Walk(float(window.width), float(window.height))
    for child in reversed(window.children):
        walk.widget(child, 1.0)
    return walk.quads
