"""The sandbox may only ever be a server on this machine's loopback interface."""
from __future__ import annotations

import ipaddress
from urllib.parse import urlparse


def loopback_problem(url: str) -> str | None:
    """None when ``url`` is http(s)://<loopback address>:<port>, else what is wrong."""
    try:
        parsed = urlparse(url)
        port = parsed.port
    except (ValueError, TypeError, AttributeError):
        return "not a URL like http://127.0.0.1:5000"
    if parsed.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL like http://127.0.0.1:5000"
    if not parsed.hostname or port is None:
        return "must name a host and a port, like http://127.0.0.1:5000"
    if parsed.hostname == "localhost":
        return None
    try:
        if ipaddress.ip_address(parsed.hostname).is_loopback:
            return None
    except ValueError:
        pass
    return ("only loopback addresses (127.0.0.0/8, ::1, localhost) are allowed for the "
            f"sandbox, not {parsed.hostname}")
