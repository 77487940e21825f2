"""Generated camera scenes for the tests and the benchmarks, deterministic from a seed.

Not part of the kiosk: the package is not installed with it. The synthetic camera a terminal
without a camera sends is `kiosk.devices.synthetic`, a far simpler picture.
"""
