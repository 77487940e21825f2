"""The memory calls reach glibc here (Debian); the soak benchmark measures their effect."""

from __future__ import annotations

from kiosk.base.memory import limit_malloc_arenas


def test_malloc_arenas_can_be_limited_on_glibc() -> None:
    assert limit_malloc_arenas(2) is True
