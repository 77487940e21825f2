"""Host names as the allow-list sees them."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """True for localhost and loopback addresses, the only hosts plain http is allowed to
    (the demo's and the tests' own servers)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
