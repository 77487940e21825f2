"""Chromium as the practitioner: Debian's chromium driven by Playwright, on the reference
node's /practitioner page, with Chromium's fake camera and microphone."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from playwright.async_api import BrowserContext, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a fresh profile, removed afterwards."""
    profile = tempfile.mkdtemp(prefix="kiosk-chromium-")
    # Keep the browser off the kiosk's PulseAudio: its speaker monitor is the kiosk's
    # microphone, and the practitioner's sound must reach the kiosk only through the call.
    env = {k: v for k, v in os.environ.items() if k != "PULSE_SERVER"}
    env["PULSE_SERVER"] = "unix:" + os.path.join(profile, "no-pulse")
    try:
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                profile, executable_path=CHROMIUM, headless=True, args=FLAGS, env=env
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


class PractitionerPage:
    """The page as a test sees it: what it lists, its buttons, its media figures."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @classmethod
    async def open(
        cls, context: BrowserContext, base_url: str, alias: str, pin: str
    ) -> PractitionerPage:
        page = await context.new_page()
        query = urlencode({"alias": alias, "pin": pin, "name": "Lege", "autojoin": "1"})
        await page.goto(f"{base_url}/practitioner?{query}")
        await page.wait_for_function("window.practitioner && window.practitioner.joined")
        return cls(page)

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.page.evaluate(
            """() => {
                const s = window.practitioner;
                return {joined: s.joined, directMedia: s.directMedia, admitted: s.admitted,
                        departed: s.departed, log: s.log, videoFrames: s.videoFrames,
                        callState: s.callState};
            }"""
        )
        return result

    async def stats(self) -> dict[str, float]:
        result: dict[str, float] = await self.page.evaluate("() => window.practitioner.stats()")
        return result

    async def names(self, list_id: str) -> list[str]:
        names: list[str] = await self.page.locator(f"#{list_id} li .name").all_inner_texts()
        return names

    async def wait_waiting(self, name: str, timeout_s: float = 10.0) -> None:
        await self.page.locator("#waiting li .name", has_text=name).wait_for(
            timeout=timeout_s * 1000
        )

    async def admit(self, name: str) -> None:
        await self.page.locator("#waiting li", has_text=name).locator("button.admit").click()

    async def end(self, name: str) -> None:
        await self.page.locator("#in-call li", has_text=name).locator("button.end").click()

    async def wait_for(self, expression: str, timeout_s: float = 10.0) -> None:
        await self.page.wait_for_function(expression, timeout=timeout_s * 1000, polling=50)
