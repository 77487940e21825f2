"""How a check went: one vocabulary from the analyser that measures a frame, through the
check screen and the session, to the metrics IT alerts on."""

from __future__ import annotations

import enum


class CheckStatus(enum.StrEnum):
    RUNNING = "running"
    PASS = "pass"
    WARN = "warn"  # the call can go ahead; the advice says how to make it better
    FAIL = "fail"  # the clinician will likely not see or hear the patient
