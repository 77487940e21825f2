"""Clinic telehealth kiosk: joins a Pexip Infinity video consultation from a touch terminal."""

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
