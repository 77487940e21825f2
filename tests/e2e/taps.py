"""Where the terminal test taps: the controls' centres as fractions of the 1280×800 window,
(0, 0) top left. tests/ui/test_places.py checks each against the laid-out screens."""

from __future__ import annotations

WINDOW = (1280, 800)
START = (0.5, 0.45)
NURSE_CORNER, MAINTENANCE_CORNER = (0.03, 0.04), (0.97, 0.04)
CHECKS_HEARD, CHECKS_KNOCK = (0.61, 0.9), (0.87, 0.9)
CALL_SHOW_ID, CALL_END = (0.67, 0.91), (0.87, 0.91)
MAINTENANCE_TEST_CALL = (0.5, 0.9)
ENDED_DONE = (0.5, 0.785)
