"""Gunicorn settings for the instance (``gunicorn -c`` this file). Environment overrides
exist for the tests and the benchmark, which bind to loopback."""
import os

bind = [os.environ.get("APP_BIND", "0.0.0.0:8080")]
# Threads, not processes, carry the concurrency: each worker holds one DB connection and
# one verdict cache, so two workers mean two connections per instance, whatever the load.
worker_class = "gthread"
workers = int(os.environ.get("APP_WORKERS", "2"))
threads = int(os.environ.get("APP_THREADS", "8"))
# Longer than the ALB's 60 s idle timeout, so the ALB, not gunicorn, closes idle
# keep-alive connections (otherwise a reused connection can be reset: a 502).
keepalive = 75
timeout = 30
graceful_timeout = 10
# Nothing manages the fleet through gunicorn's control socket, and the service user has
# no writable home for it.
control_socket_disable = True
accesslog = None  # the application logs each request itself, as JSON
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "platform_app.logs.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stdout"}},
    # gunicorn merges this over its defaults key by key, so root must name a handler here.
    "root": {"level": "INFO", "handlers": ["stdout"]},
    "loggers": {"gunicorn.error": {"handlers": ["stdout"], "level": "INFO",
                                   "propagate": False},
                "gunicorn.access": {"handlers": [], "propagate": False}},
}
