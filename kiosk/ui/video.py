"""Video on screen: one texture per source, created once and updated in place.

A `VideoFeed` polls its source (the engine's newest frame and sequence number) and blits new
frames into its texture; `VideoView` widgets draw that texture, letterboxed. A new texture is
made only when the frame size changes (Kivy leaks GPU memory with a texture per frame).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from kivy.event import EventDispatcher
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.widget import Widget

from kiosk.engine.view import RgbFrame

FrameSource = Callable[[], "tuple[int, RgbFrame] | None"]


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
        return True

    def _blit(self, frame: RgbFrame) -> None:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(
                f"frame must be height x width x 3 uint8 RGB (got {frame.shape} {frame.dtype})"
            )
        height, width = frame.shape[:2]
        texture = self.texture
        if texture is None or tuple(texture.size) != (width, height):
            texture = Texture.create(size=(width, height), colorfmt="rgb")
            # Frames come top row first; GL wants the bottom row first.
            texture.flip_vertical()
            if self.mirrored:
                texture.flip_horizontal()
            self.texture = texture
        data = np.ascontiguousarray(frame).reshape(-1)
        texture.blit_buffer(data, colorfmt="rgb", bufferfmt="ubyte")
        self.frames += 1

    def clear(self) -> None:
        """Forget the picture (between patients): the texture is dropped, not just hidden."""
        self.texture = None
        self._sequence = None
        self.frames += 1


class VideoView(Widget):  # type: ignore[misc]
    """Draws a feed's texture inside its box, keeping the aspect ratio (see video.kv)."""

    feed = ObjectProperty(None, allownone=True)
    texture = ObjectProperty(None, allownone=True)
    frames = NumericProperty(0)

    def on_feed(self, _instance: object, feed: VideoFeed | None) -> None:
        if feed is None:
            return
        feed.bind(texture=self.setter("texture"), frames=self.setter("frames"))
        self.texture = feed.texture

    def on_frames(self, *_args: object) -> None:
        self.canvas.ask_update()

    def fitted(self, texture: Texture | None, pos: Any, size: Any) -> tuple[float, ...]:
        """x, y, width, height of the picture letterboxed into this widget."""
        if texture is None or size[0] <= 0 or size[1] <= 0:
            return (pos[0], pos[1], 0.0, 0.0)
        tw, th = texture.size
        scale = min(size[0] / tw, size[1] / th)
        w, h = tw * scale, th * scale
        return (pos[0] + (size[0] - w) / 2, pos[1] + (size[1] - h) / 2, w, h)
