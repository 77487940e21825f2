"""Video on screen: one texture per source, created once and updated in place.

A `VideoFeed` polls its source (the engine's newest frame and sequence number) and blits new
frames into its texture; `VideoView` widgets draw that texture, either filling their box
(cropped around a point, the patient's face for the self view: never black bars) or whole
inside it (the clinician's picture, and the self view while an ID card is shown, where the
patient must see all the camera sees). A new texture is made only when the frame size
changes (Kivy leaks GPU memory with a texture per frame).

`FaceFocus` glides the crop towards the face that the engine's `FaceFinder` finds in the
self view a few times a second, off the UI thread. It keeps nothing but the point.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from kivy.event import EventDispatcher
from kivy.graphics.texture import Texture
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
)
from kivy.uix.widget import Widget

from kiosk.engine.face_focus import FaceFinder
from kiosk.engine.view import RgbFrame

FrameSource = Callable[[], "tuple[int, RgbFrame] | None"]
Rect = tuple[float, float, float, float]  # x, y, width, height
# Where in the picture (fractions, x from the left and y from the top, as drawn) the crop is
# centred when there is no face to follow.
CENTRE = (0.5, 0.5)


class VideoFeed(EventDispatcher):  # type: ignore[misc]
    texture = ObjectProperty(None, allownone=True)
    # Bumped on every new frame so views redraw.
    frames = NumericProperty(0)
    mirrored = BooleanProperty(False)

    def __init__(self, source: FrameSource, mirrored: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._source = source
        self._sequence: int | None = None
        self.mirrored = mirrored
        self.latest: RgbFrame | None = None

    def poll(self) -> bool:
        """Blit the source's newest frame if it is new; True when something was drawn."""
        got = self._source()
        if got is None:
            return False
        sequence, frame = got
        if sequence == self._sequence:
            return False
        self._sequence = sequence
        self._blit(frame)
        self.latest = frame
        return True

    def _blit(self, frame: RgbFrame) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f"frame must be height x width x 3 uint8 RGB (got {frame.shape} {frame.dtype})"
            )
        height, width = frame.shape[:2]
        texture = self.texture
        if texture is None or tuple(texture.size) != (width, height):
            # Frames come top row first, so the picture's top is at v = 0 of the texture;
            # views set the texture coordinates themselves (see `tex_coords_for`).
            texture = Texture.create(size=(width, height), colorfmt="rgb")
            self.texture = texture
        data = np.ascontiguousarray(frame).reshape(-1)
        texture.blit_buffer(data, colorfmt="rgb", bufferfmt="ubyte")
        self.frames += 1

    def clear(self) -> None:
        """Forget the picture (between patients): the texture is dropped, not just hidden."""
        self.texture = None
        self._sequence = None
        self.latest = None
        self.frames += 1


def cover(box: Rect, picture: tuple[float, float], focus: tuple[float, float]) -> Rect:
    """The part of the picture (fractions x0, y0, width, height, y from the top) that fills
    `box` at the picture's own aspect, as near centred on `focus` as the picture allows."""
    bw, bh = box[2], box[3]
    pw, ph = picture
    if bw <= 0 or bh <= 0 or pw <= 0 or ph <= 0:
        return (0.0, 0.0, 1.0, 1.0)
    scale = max(bw / pw, bh / ph)
    fw, fh = min(1.0, bw / scale / pw), min(1.0, bh / scale / ph)
    x0 = min(max(focus[0] - fw / 2, 0.0), 1.0 - fw)
    y0 = min(max(focus[1] - fh / 2, 0.0), 1.0 - fh)
    return (x0, y0, fw, fh)


def contain(box: Rect, picture: tuple[float, float]) -> Rect:
    """Where the whole picture goes inside `box` at its own aspect (x, y, width, height)."""
    x, y, bw, bh = box
    pw, ph = picture
    if bw <= 0 or bh <= 0 or pw <= 0 or ph <= 0:
        return (x, y, 0.0, 0.0)
    scale = min(bw / pw, bh / ph)
    w, h = pw * scale, ph * scale
    return (x + (bw - w) / 2, y + (bh - h) / 2, w, h)


def bars(box: Rect, picture: Rect) -> tuple[Rect, Rect]:
    """The two parts of `box` the picture leaves uncovered (left and right of it, or below
    and above it), for the backdrop. Only they are painted: a software renderer pays for
    every pixel drawn, and one full backdrop under the picture drew its area twice."""
    x, y, w, h = box
    px, py, pw, ph = picture
    if pw <= 0 or ph <= 0:
        return (box, (x, y, 0.0, 0.0))
    if pw < w:
        return ((x, y, px - x, h), (px + pw, y, x + w - px - pw, h))
    return ((x, y, w, py - y), (x, py + ph, w, y + h - py - ph))


def tex_coords_for(crop: Rect, mirrored: bool) -> list[float]:
    """Kivy texture coordinates (bottom-left, bottom-right, top-right, top-left) that draw
    `crop` of a texture blitted top row first, mirrored left to right if asked."""
    x0, y0, fw, fh = crop
    x1, y1 = x0 + fw, y0 + fh
    left, right = (1.0 - x0, 1.0 - x1) if mirrored else (x0, x1)
    return [left, y1, right, y1, right, y0, left, y0]


class VideoView(Widget):  # type: ignore[misc]
    """Draws a feed's texture in its box: filling it, cropped around `focus`, or whole."""

    feed = ObjectProperty(None, allownone=True)
    texture = ObjectProperty(None, allownone=True)
    frames = NumericProperty(0)
    fill = OptionProperty("cover", options=["cover", "contain"])
    # Fractions of the picture as drawn (mirrored if the feed is), y from the top.
    focus = ListProperty(list(CENTRE))
    # What the canvas draws: the picture's rectangle and its texture coordinates.
    picture = ListProperty([0.0, 0.0, 0.0, 0.0])
    tex_coords = ListProperty([0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0])
    # The backdrop: what the picture leaves uncovered of the box (see `bars`).
    bar_a = ListProperty([0.0, 0.0, 0.0, 0.0])
    bar_b = ListProperty([0.0, 0.0, 0.0, 0.0])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("pos", "size", "texture", "fill", "focus"):
            self.fbind(name, self._place)

    def on_feed(self, _instance: object, feed: VideoFeed | None) -> None:
        if feed is None:
            return
        feed.bind(texture=self.setter("texture"), frames=self.setter("frames"))
        self.texture = feed.texture

    def on_frames(self, *_args: object) -> None:
        self.canvas.ask_update()

    def _place(self, *_args: object) -> None:
        texture = self.texture
        box = (float(self.x), float(self.y), float(self.width), float(self.height))
        if texture is None:
            self.picture = [box[0], box[1], 0.0, 0.0]
            self._backdrop(box)
            return
        size = (float(texture.width), float(texture.height))
        mirrored = bool(self.feed is not None and self.feed.mirrored)
        if self.fill == "contain":
            self.picture = list(contain(box, size))
            self.tex_coords = tex_coords_for((0.0, 0.0, 1.0, 1.0), mirrored)
        else:
            self.picture = list(box)
            focus = (float(self.focus[0]), float(self.focus[1]))
            self.tex_coords = tex_coords_for(cover(box, size, focus), mirrored)
        self._backdrop(box)

    def _backdrop(self, box: Rect) -> None:
        picture = self.picture
        a, b = bars(box, (picture[0], picture[1], picture[2], picture[3]))
        self.bar_a, self.bar_b = list(a), list(b)


class FaceFocus(EventDispatcher):  # type: ignore[misc]
    """The patient's face in the self view, as the point (fractions of the picture as drawn,
    mirrored) a cropped view centres on; the centre while no face is seen."""

    focus = ListProperty(list(CENTRE))

    def __init__(
        self, mirrored: bool = True, every_s: float = 0.25, follow: float = 0.5, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self._mirrored = mirrored
        # Share of the way to the newest face position taken per look: the crop glides.
        self._follow = follow
        self._finder = FaceFinder(every_s)

    def offer(self, frame: RgbFrame) -> None:
        """Take the newest self-view frame; now and then it is searched for a face."""
        found = self._finder.take()
        if found is not None:
            x, y = (1.0 - found[0], found[1]) if self._mirrored else found
            fx, fy = self.focus
            self.focus = [fx + (x - fx) * self._follow, fy + (y - fy) * self._follow]
        self._finder.offer(frame)

    def clear(self) -> None:
        """Forget where the last patient was."""
        self._finder.clear()
        self.focus = list(CENTRE)

    def close(self) -> None:
        self.clear()
        self._finder.close()
