"""Screenshots for the UI tests: each one checked to be a drawn screen, not a blank one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


def assert_not_blank(image: npt.NDArray[np.uint8], what: str) -> None:
    colours = np.unique(image[::8, ::8].reshape(-1, 3), axis=0)
    assert image.std() > 12 and len(colours) >= 4, (
        f"{what}: expected a drawn screen (got std {image.std():.1f}, {len(colours)} colours)"
    )


class Shots:
    def __init__(self, pilot: Any, folder: Path) -> None:
        self.pilot = pilot
        self.folder = folder
        self.taken: list[str] = []

    async def take(self, name: str) -> npt.NDArray[np.uint8]:
        image: npt.NDArray[np.uint8] = await self.pilot.screenshot()
        path = self.folder / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), image[:, :, ::-1]):
            raise OSError(f"expected to write a PNG at {path}")
        assert_not_blank(image, name)
        self.taken.append(name)
        return image


def text_of(pilot: Any, widget_id: str) -> str:
    text: str = pilot.widget(widget_id).text
    return text
