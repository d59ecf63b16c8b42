"""One JSON object per log line, with every secret value the invocation touched redacted.

Each line is the JSON document itself (not a wrapper around free text), so CloudWatch Logs
Insights can query its fields with Lambda's text or JSON log format alike. Redaction is a second
line of defence: the code never passes a password to ``log()``, but an exception message from a
library might echo one, so every string is scrubbed of the values registered with ``protect()``.
"""
from __future__ import annotations

import json
import logging

REDACTED = "[REDACTED]"

_logger = logging.getLogger("rotation")
_protected: set[str] = set()


def reset(level: str = "INFO") -> None:
    """Start an invocation: forget the previous one's secrets, apply the log level."""
    _protected.clear()
    _logger.setLevel(level)


def protect(*values: object) -> None:
    """Register secret values that must never appear in a log line or an error message."""
    for value in values:
        # Very short strings would redact innocent text and cannot be real passwords here.
        if isinstance(value, str) and len(value) >= 4:
            _protected.add(value)


def redact(text: str) -> str:
    # Longest first, so a secret that contains another is removed whole.
    for value in sorted(_protected, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def _scrub(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact(str(value))


def log(level: int, event: str, **fields) -> None:
    if not _logger.isEnabledFor(level):
        return
    record = {"level": logging.getLevelName(level), "event": event, **_scrub(fields)}
    line = json.dumps(record, sort_keys=True, separators=(",", ":"))
    # Keys and anything _scrub could not see are covered by scrubbing the whole line too.
    _logger.log(level, redact(line))


def info(event: str, **fields) -> None:
    log(logging.INFO, event, **fields)


def warning(event: str, **fields) -> None:
    log(logging.WARNING, event, **fields)


def error(event: str, **fields) -> None:
    log(logging.ERROR, event, **fields)
