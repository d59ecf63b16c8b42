"""The WSGI application: the root page a person sees through CloudFront, and /health for
the ALB. Every request is logged once as JSON and timed into RequestLatency.

The page's assets live in app/static/ and are served by CloudFront under STATIC_PATH."""
from __future__ import annotations

import html
import json
import logging
import time
import uuid

from platform_app.health import HealthCheck
from platform_app.logs import event
from platform_app.metrics import Metrics

_SECURITY_HEADERS = [("X-Content-Type-Options", "nosniff"),
                     ("Strict-Transport-Security", "max-age=31536000; includeSubDomains")]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Financial transaction platform</title>
<link rel="stylesheet" href="{static}css/site.css">
<link rel="icon" href="{static}img/logo.svg">
</head><body>
<header><img src="{static}img/logo.svg" alt="" width="48" height="48">
<h1>Financial transaction platform</h1></header>
<main><p>The platform is answering.</p>
<dl><dt>Environment</dt><dd>{environment}</dd>
<dt>Instance</dt><dd>{instance}</dd>
<dt>Database</dt><dd>{database}</dd></dl></main>
</body></html>
"""


class Application:
    def __init__(self, health: HealthCheck, metrics: Metrics, logger: logging.Logger, *,
                 environment: str, instance_id: str, static_path: str):
        self._health, self._metrics, self._log = health, metrics, logger
        self._environment, self._instance = environment, instance_id
        self._static = static_path if static_path.endswith("/") else static_path + "/"

    def __call__(self, environ, start_response):
        started = time.monotonic()
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        route = {"/health": "health", "/": "root"}.get(path, "other")
        request_id = environ.get("HTTP_X_AMZN_TRACE_ID") or uuid.uuid4().hex
        try:
            status, headers, body, extra = self._dispatch(method, route)
        except Exception:
            self._log.exception("unhandled_exception", extra={
                "event": "unhandled_exception", "path": path, "request_id": request_id})
            status, headers, body, extra = 500, _json_headers(), _json(
                {"status": "error", "reason": "internal_error"}), {}
        latency = (time.monotonic() - started) * 1000
        event(self._log, logging.INFO if status < 500 else logging.WARNING, "request",
              method=method, path=path, status=status, latency_ms=round(latency, 3),
              request_id=request_id, client=environ.get("REMOTE_ADDR", ""), **extra)
        self._metrics.request_latency(latency, route)
        start_response(f"{status} {_REASONS.get(status, 'Status')}",
                       headers + _SECURITY_HEADERS + [("Content-Length", str(len(body)))])
        return [b"" if method == "HEAD" else body]

    def _dispatch(self, method: str, route: str):
        if route == "other":
            return 404, _json_headers(), _json({"status": "not_found"}), {}
        if method not in ("GET", "HEAD"):
            return 405, _json_headers() + [("Allow", "GET, HEAD")], _json(
                {"status": "method_not_allowed"}), {}
        verdict = self._health.verdict()
        if route == "health":
            body = {"status": "ok" if verdict.healthy else "unhealthy",
                    "reason": verdict.reason,
                    "checked_at": round(verdict.checked_at, 3)}
            return (200 if verdict.healthy else 503), _json_headers(), _json(body), {
                "reason": verdict.reason}
        page = _PAGE.format(static=html.escape(self._static, quote=True),
                            environment=html.escape(self._environment),
                            instance=html.escape(self._instance),
                            database="reachable over TLS" if verdict.healthy
                            else "unavailable")
        return 200, [("Content-Type", "text/html; charset=utf-8"),
                     ("Cache-Control", "no-store"),
                     ("Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
                     ], page.encode(), {}


_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _json_headers():
    return [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


def _json(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
