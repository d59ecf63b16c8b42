"""The /health verdict: one database check at a time per process, its result reused for
``cache_seconds``, so a burst of health checks costs at most one query per interval."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from platform_app.credentials import CredentialStore, SecretUnavailable
from platform_app.database import CredentialsRejected, Database, DatabaseError
from platform_app.logs import event
from platform_app.metrics import Metrics

CHECK_BUDGET_S = 3.0


@dataclass(frozen=True)
class Verdict:
    healthy: bool
    reason: str          # a fixed code such as "db_unreachable"; never a secret value
    checked_at: float    # time.time() of the check this verdict came from


class HealthCheck:
    def __init__(self, credentials: CredentialStore, database: Database, metrics: Metrics,
                 logger: logging.Logger, cache_seconds: float):
        self._creds, self._db, self._metrics = credentials, database, metrics
        self._log, self._ttl = logger, cache_seconds
        self._lock = threading.Lock()
        self._verdict: Verdict | None = None
        self._at = 0.0
        self.checks_run = 0

    def verdict(self) -> Verdict:
        # Waiters block on the lock while one thread checks, then take its fresh verdict:
        # a burst never queues a second query behind the first.
        with self._lock:
            if self._verdict is not None and time.monotonic() - self._at < self._ttl:
                return self._verdict
            self._verdict = self._check()
            self._at = time.monotonic()
            return self._verdict

    def _check(self) -> Verdict:
        self.checks_run += 1
        started = time.monotonic()
        try:
            self._probe()
        except (SecretUnavailable, DatabaseError) as exc:
            self._metrics.db_check(failed=True)
            event(self._log, logging.WARNING, "db_check_failed", reason=exc.reason,
                  detail=exc.detail, duration_ms=_ms(started))
            return Verdict(False, exc.reason, time.time())
        self._metrics.db_check(failed=False)
        return Verdict(True, "ok", time.time())

    def _probe(self) -> None:
        # Each step is bounded by its own timeout (at most 1.5 s); no new step starts past
        # the budget, so a check ends inside the target group's 5 s whatever goes wrong.
        deadline = time.monotonic() + CHECK_BUDGET_S
        creds = self._creds.current()
        try:
            self._db.probe(creds)
            return
        except CredentialsRejected:
            _within(deadline)
            fresh = self._creds.after_rejection(creds)
            if fresh is None:
                raise
        event(self._log, logging.INFO, "credentials_refreshed", version_id=fresh.version_id)
        _within(deadline)
        self._db.probe(fresh)


def _within(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise DatabaseError("db_timeout", f"the check used its {CHECK_BUDGET_S:g} s budget; "
                            "the next check continues from the refreshed credentials")


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)
