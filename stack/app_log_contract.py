"""What the instance application logs, as the CloudWatch metric filters key on it.

The application (app/platform_app) writes one JSON object per line with ``level``,
``event`` and, for requests, an integer ``status``. monitoring.py builds its metric filters
from these patterns; the application's tests feed the lines it really writes through
:func:`matches`, so the patterns and the logs cannot drift apart.

Levels: a request that answers 5xx logs at WARNING, a failed DB check logs
``event="db_check_failed"`` at WARNING, and only an unhandled exception logs at ERROR, so the
three alarms count three different things.
"""
from __future__ import annotations

import json
import re
from typing import Any

HTTP_5XX_PATTERN = "{ $.status >= 500 }"
EXCEPTION_PATTERN = '{ $.level = "ERROR" }'
DB_FAILURE_PATTERN = '{ $.event = "db_check_failed" }'

# Custom metrics the application itself publishes (namespace from Naming.metrics_namespace),
# as embedded-metric-format records through the CloudWatch agent.
METRIC_REQUEST_LATENCY = "RequestLatency"
METRIC_DB_CHECK_FAILURES = "DbCheckFailures"
# Every custom metric carries this dimension (the stack's environment name); RequestLatency
# also carries Path ("health", "root" or "other"). Alarms must name the same dimensions.
METRIC_DIMENSION_ENVIRONMENT = "Environment"
METRIC_DIMENSION_PATH = "Path"

_TERM = re.compile(r'\s*\$\.([A-Za-z_][\w.]*)\s*(=|!=|>=|<=|>|<)\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)\s*')


def matches(pattern: str, line: str) -> bool:
    """CloudWatch Logs JSON filter semantics for the subset used here: ``{ $.a OP v }``
    terms joined by ``&&`` (no parentheses, no ``||``). A non-JSON line or a missing
    field never matches; numbers compare only with numbers, strings only with ``=``/``!=``.
    """
    body = pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"not a JSON filter pattern: {pattern!r}")
    try:
        event = json.loads(line)
    except ValueError:
        return False
    if not isinstance(event, dict):
        return False
    return all(_term(t, event) for t in body[1:-1].split("&&"))


def _term(term: str, event: dict[str, Any]) -> bool:
    m = _TERM.fullmatch(term)
    if not m:
        raise ValueError(f"unsupported filter term {term!r}: only $.field OP value")
    path, op, raw = m.groups()
    value: Any = event
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    if raw.startswith('"'):
        if op not in ("=", "!=") or not isinstance(value, str):
            return False
        expected: object = json.loads(raw)
        return (value == expected) == (op == "=")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    want = float(raw)
    return {"=": value == want, "!=": value != want, ">=": value >= want,
            "<=": value <= want, ">": value > want, "<": value < want}[op]
