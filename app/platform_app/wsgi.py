"""Gunicorn's entry point. Each worker imports this after forking, so each worker owns
its own kept database connection and verdict cache (no state shared across a fork)."""
from __future__ import annotations

from platform_app.config import Settings
from platform_app.credentials import CredentialStore
from platform_app.database import Database
from platform_app.health import HealthCheck
from platform_app.logs import configure
from platform_app.metrics import Metrics
from platform_app.web import Application


def create_app(settings: Settings) -> Application:
    logger = configure()
    metrics = Metrics(settings.metrics_endpoint, settings.metrics_namespace,
                      settings.environment, settings.log_group)
    health = HealthCheck(
        CredentialStore(settings.secret_arn, settings.region),
        Database(settings.db_host, settings.db_port, settings.ca_bundle,
                 settings.connect_timeout, settings.query_timeout),
        metrics, logger, settings.cache_seconds)
    return Application(health, metrics, logger, environment=settings.environment,
                       instance_id=settings.instance_id, static_path=settings.static_path)


application = create_app(Settings.from_env())
