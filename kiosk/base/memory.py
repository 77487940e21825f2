"""Keep the kiosk's memory flat over weeks of sessions.

A call allocates and frees many frame-sized buffers on several threads (camera, encoder,
decoder, audio). glibc gives threads their own malloc arenas and keeps what was freed in
them, so the process grew by about a megabyte a session although no Python object leaked
(measured with tracemalloc over the soak benchmark), and within one call the heap held
twice what was in use. Two arenas, a fixed mmap threshold for frame-sized blocks and a
trim after each wipe keep it flat; on a C library without these calls they do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_libc: ctypes.CDLL | None
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _libc.malloc_trim.argtypes = [ctypes.c_size_t]
except (OSError, AttributeError):
    _libc = None


# from glibc's malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_malloc(
    arenas: int = 2, mmap_threshold: int = 128 * 1024, trim_threshold: int = 4 * 1024 * 1024
) -> bool:
    """Cap glibc's malloc arenas and give every block of `mmap_threshold` bytes or more
    its own mapping, returned to the system when freed; call before the device and media
    threads start.

    glibc raises its mmap threshold each time such a block is freed, up to 32 MB, so after
    the first few video frames every frame buffer came from the heap, and the heap kept
    what the frames left between the small objects allocated meanwhile: 40 MB of heap in a
    one-minute call where 18 MB is in use. A fixed threshold keeps it there, for a few
    page faults per frame. The top of the heap goes back only once `trim_threshold` bytes
    are free there: giving back every freed block (glibc's trim threshold follows the mmap
    one) had the camera analysers fault the same pages in again on every frame.
    """
    if _libc is None or not hasattr(_libc, "mallopt"):
        return False
    applied = [
        bool(_libc.mallopt(option, value))
        for option, value in (
            (_M_ARENA_MAX, arenas),
            (_M_MMAP_THRESHOLD, mmap_threshold),
            (_M_TRIM_THRESHOLD, trim_threshold),
        )
    ]  # every one tried, even when an earlier one is refused
    return all(applied)


def release_free_memory() -> bool:
    """Return freed heap memory to the system; True if anything was released."""
    if _libc is None:
        return False
    return bool(_libc.malloc_trim(0))
