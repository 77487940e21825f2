"""A pilot for UI tests: runs the real app in a real window and taps it like a finger.

    async with run_app(engine, size=(1280, 800)) as pilot:
        await pilot.tap("start")
        await pilot.wait_for(lambda: pilot.screen_name == "number")

Taps are motion events fed through Kivy's event loop (the same path as a touch screen), so
a disabled, hidden or covered button behaves as it would for a patient. Needs a display
(Xvfb in tests).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from kiosk.engine.view import EngineView
from kiosk.ui.app import KioskApp

_touch_ids = itertools.count(1)
UNDRAWN_FPS = 300.0


class OutOfBounds(Exception):
    """The widget to tap is not on the window."""


class _Finger:
    """Builds the MotionEvent class lazily so that importing this module opens no window."""

    _cls: type[Any] | None = None

    @classmethod
    def make(cls, x: float, y: float, width: int, height: int) -> Any:
        if cls._cls is None:
            from kivy.input.motionevent import MotionEvent

            class Finger(MotionEvent):  # type: ignore[misc]
                def depack(self, args: dict[str, float]) -> None:
                    self.is_touch = True
                    self.sx = args["sx"]
                    self.sy = args["sy"]
                    self.profile = ["pos"]
                    super().depack(args)

            cls._cls = Finger
        # Kivy maps sx in 0..1 to x in 0..width-1.
        args = {"sx": x / max(1, width - 1), "sy": y / max(1, height - 1)}
        return cls._cls("pilot", next(_touch_ids), args)


def _skip(*_args: object) -> bool:
    return True


# A frame takes milliseconds; this long without one means the app has stopped drawing.
FRAME_LIMIT_S = 30.0


class Pilot:
    def __init__(self, app: KioskApp, running: asyncio.Future[Any] | None = None) -> None:
        self.app = app
        self._running = running
        self._undrawn = 0

    @property
    def screen_name(self) -> str:
        name: str = self.app.root.ids.screens.current
        return name

    def screens_widget(self, name: str) -> Any:
        """The screen object called `name` (a session phase value)."""
        return self.app.root.ids.screens.get_screen(name)

    def widget(self, widget_id: str) -> Any:
        """The widget with this id on the current screen (or the window around it)."""
        screen = self.app.root.ids.screens.current_screen
        for owner in (screen, *screen.walk(restrict=True), self.app.root):
            found = owner.ids.get(widget_id) if hasattr(owner, "ids") else None
            if found is not None:
                return found
        raise LookupError(f"expected a widget with id {widget_id!r} on screen {self.screen_name}")

    def texts(self) -> list[str]:
        """Every text on every screen (shown or not) and around them, for privacy checks."""
        texts: list[str] = []
        widgets = [self.app.root, *self.app.screens.values()]
        for top in widgets:
            for widget in top.walk():
                text = getattr(widget, "text", None)
                if isinstance(text, str) and text:
                    texts.append(text)
        return texts

    async def frames(self, count: int = 1) -> None:
        """Wait until Kivy has run `count` more frames."""
        from kivy.clock import Clock

        for _ in range(count):
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            Clock.schedule_once(lambda _dt, f=done: f.done() or f.set_result(None), 0)
            waits: set[asyncio.Future[Any]] = {done}
            if self._running is not None:
                waits.add(self._running)
            await asyncio.wait(waits, timeout=FRAME_LIMIT_S, return_when=asyncio.FIRST_COMPLETED)
            if done.done():
                continue
            done.cancel()
            # A test waiting for a frame that never comes would otherwise wait for ever.
            if self._running is not None and self._running.done():
                error = None if self._running.cancelled() else self._running.exception()
                raise RuntimeError(f"expected a frame, but the app stopped ({error!r})")
            raise TimeoutError(f"expected a frame within {FRAME_LIMIT_S} s")

    async def settled(self, most: int = 12, pictures: bool = False) -> None:
        """Wait until a frame changes nothing of the layout (sizes, places, type): a change of
        state can take a few frames to pass from text to label to box to column. With
        `pictures`, also until the video poll has had its turn since, so the self view and the
        clinician's picture are the newest frames (the poll is paced, and a frame of layout
        without drawing comes far sooner)."""
        await self._layout_settled(most)
        if pictures:
            polls = self.app.video_polls
            await self.wait_for(lambda: self.app.video_polls > polls, what="a video poll")
            await self._layout_settled(most)

    async def _layout_settled(self, most: int) -> None:

        def geometry() -> list[tuple[float, ...]]:
            return [
                (*widget.pos, *widget.size, getattr(widget, "font_size", 0))
                for widget in self.app.root.walk()
            ]

        await self.frames(1)
        before = geometry()
        for _ in range(most):
            await self.frames(1)
            now = geometry()
            if now == before:
                return
            before = now

    async def tap(self, widget_id: str, hold_s: float = 0.05) -> None:
        """Touch down and up at the centre of the widget, through the window's event loop."""
        from kivy.base import EventLoop
        from kivy.core.window import Window

        await self.frames(1)  # let the layout settle, as it has by the time a finger arrives
        target = self.widget(widget_id)
        x, y = target.to_window(*target.center)
        width, height = Window.size
        if not (0 <= x < width and 0 <= y < height) or target.width <= 0 or target.height <= 0:
            raise OutOfBounds(
                f"expected {widget_id!r} inside the {width}x{height} window "
                f"(centre at {x:.0f},{y:.0f}, size {target.width:.0f}x{target.height:.0f})"
            )
        finger = _Finger.make(x, y, width, height)
        EventLoop._dispatch_input("begin", finger)
        await self.frames(1)
        await asyncio.sleep(hold_s)
        EventLoop._dispatch_input("end", finger)
        await self.frames(2)

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        timeout: float = 10.0,
        what: str = "",
        explain: Callable[[], str] | None = None,
    ) -> None:
        """Wait for `predicate`; on timeout the error names `what`, the screen, and whatever
        `explain` says about the state then."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                detail = f"; {explain()}" if explain is not None else ""
                raise TimeoutError(
                    f"expected {what or 'the condition'} within {timeout} s "
                    f"(screen is {self.screen_name}{detail})"
                )
            await self.frames(1)

    async def wait_for_screen(self, name: str, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: self.screen_name == name, timeout, f"screen {name}")
        await self.frames(2)

    @contextmanager
    def undrawn(self) -> Iterator[None]:
        """Frames go on (clock, layout, text) but nothing is rasterised: for tests that only
        measure the layout, where drawing each frame in software would cost most of the time.
        `screenshot` draws anyway."""
        from kivy.clock import Clock
        from kivy.core.window import Window

        Window.bind(on_draw=_skip, on_flip=_skip)
        # Frames without drawing are cheap: let them come faster than the screen's rate.
        max_fps, Clock._max_fps = Clock._max_fps, UNDRAWN_FPS
        self._undrawn += 1
        try:
            yield
        finally:
            self._undrawn -= 1
            Clock._max_fps = max_fps
            Window.unbind(on_draw=_skip, on_flip=_skip)

    def pixels(self) -> npt.NDArray[np.uint8]:
        """The window as height x width x 3 RGB, top row first."""
        from kivy.core.window import Window
        from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glPixelStorei, glReadPixels

        GL_PACK_ALIGNMENT = 0x0D05
        glPixelStorei(GL_PACK_ALIGNMENT, 1)
        width, height = Window.size
        data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
        image = np.frombuffer(data, dtype=np.uint8).reshape(height, width, 3)
        return np.ascontiguousarray(image[::-1])

    async def screenshot(self) -> npt.NDArray[np.uint8]:
        """Draw a fresh frame and return its pixels (the tests decide where they go; the
        kiosk itself never writes a picture anywhere)."""
        from kivy.core.window import Window

        if self._undrawn:
            Window.unbind(on_draw=_skip, on_flip=_skip)
        try:
            Window.canvas.ask_update()
            await self.frames(2)
            return self.pixels()
        finally:
            if self._undrawn:
                Window.bind(on_draw=_skip, on_flip=_skip)


@asynccontextmanager
async def run_app(
    engine: EngineView, size: tuple[int, int] = (1280, 800), start_timeout: float = 20.0
) -> AsyncIterator[Pilot]:
    """Start a KioskApp on the running loop in a real window; stop it at the end."""
    from kivy.base import EventLoop
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    for option, _value in Config.items("input"):
        Config.remove_option("input", option)
    from kivy.core.window import Window

    if EventLoop.status == "closed":
        # A previous app in this process closed the loop; open the window again.
        Window.create_window()
        Window.register()
        Window.initialized = True
        Window.canvas.clear()
    if tuple(Window.size) != tuple(size):
        # Resizing a live window waits on the X server; set KCFG_GRAPHICS_WIDTH/HEIGHT
        # before kivy is imported to start at the right size instead.
        Window.size = size

    app = KioskApp(engine)
    first_frame = asyncio.Event()
    app.on_first_frame = first_frame.set
    task = asyncio.ensure_future(app.async_run(async_lib="asyncio"))
    try:
        waiter = asyncio.ensure_future(first_frame.wait())
        done, _ = await asyncio.wait(
            {task, waiter}, timeout=start_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if task in done:
            waiter.cancel()
            task.result()
            raise RuntimeError("expected the app to keep running, but it stopped at start")
        if waiter not in done:
            waiter.cancel()
            raise TimeoutError(f"expected the start screen within {start_timeout} s")
        pilot = Pilot(app, task)
        await pilot.frames(2)
        yield pilot
    finally:
        if not task.done():
            app.stop()
        await asyncio.wait_for(task, timeout=10)
