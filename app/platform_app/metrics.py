"""Custom metrics as CloudWatch embedded metric format (EMF) records sent to the local
CloudWatch agent's EMF listener: no API call per request, and the agent batches them."""
from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlparse

METRIC_REQUEST_LATENCY = "RequestLatency"
METRIC_DB_CHECK_FAILURES = "DbCheckFailures"


class Metrics:
    def __init__(self, endpoint: str, namespace: str, environment: str, log_group: str = ""):
        self._namespace = namespace
        self._environment = environment
        self._log_group = log_group
        self._target = None
        if endpoint and namespace:
            parsed = urlparse(endpoint)
            if parsed.scheme != "udp" or not parsed.hostname or not parsed.port:
                raise ValueError(f"METRICS_ENDPOINT={endpoint!r}: use udp://127.0.0.1:25888")
            self._target = (parsed.hostname, parsed.port)
            self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def request_latency(self, milliseconds: float, path: str) -> None:
        self._emit(METRIC_REQUEST_LATENCY, round(milliseconds, 3), "Milliseconds",
                   {"Path": path})

    def db_check(self, failed: bool) -> None:
        # A zero on success keeps the series dense, so an alarm on it can tell
        # "no failures" from "the instance stopped reporting".
        self._emit(METRIC_DB_CHECK_FAILURES, 1 if failed else 0, "Count", {})

    def _emit(self, name: str, value, unit: str, dimensions: dict) -> None:
        if self._target is None:
            return
        dims = {"Environment": self._environment, **dimensions}
        meta = {"Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{"Namespace": self._namespace,
                                       "Dimensions": [sorted(dims)],
                                       "Metrics": [{"Name": name, "Unit": unit}]}]}
        if self._log_group:
            meta["LogGroupName"] = self._log_group
        record = {"_aws": meta, **dims, name: value}
        try:
            self._sock.sendto((json.dumps(record) + "\n").encode(), self._target)
        except OSError:
            # A stopped agent must never fail a request; the agent's own health is
            # visible as a gap in the dense DbCheckFailures series.
            pass
