"""What the instance application logs, as the CloudWatch metric filters key on it.

The application writes one JSON object per line with at least ``level``, ``event`` and,
for requests, ``status``. monitoring.py builds its metric filters from these patterns and
the application's tests feed real log lines through them, so the two cannot drift.
"""
HTTP_5XX_PATTERN = "{ $.status >= 500 }"
EXCEPTION_PATTERN = '{ $.level = "ERROR" }'
DB_FAILURE_PATTERN = '{ $.event = "db_check_failed" }'

# Custom metrics the application itself publishes (namespace from Naming.metrics_namespace).
METRIC_REQUEST_LATENCY = "RequestLatency"
METRIC_DB_CHECK_FAILURES = "DbCheckFailures"
