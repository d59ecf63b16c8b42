"""Settings from the environment (user data renders them into /etc/platform-app/app.env)."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names it and what to set."""


@dataclass(frozen=True)
class Settings:
    environment: str
    region: str
    secret_arn: str
    db_host: str
    db_port: int
    ca_bundle: str
    static_path: str = "/static/"
    metrics_namespace: str = ""
    metrics_endpoint: str = ""          # udp://127.0.0.1:25888 (the CloudWatch agent's EMF port)
    log_group: str = ""                 # where the agent puts the EMF records
    instance_id: str = "unknown"
    # The target group times out at 5 s: connect + query stay well inside it, with room
    # for one retry after a rotation.
    connect_timeout: float = 1.5
    query_timeout: float = 1.5
    cache_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        missing = [k for k in ("APP_ENVIRONMENT", "AWS_REGION", "DB_SECRET_ARN", "DB_HOST",
                               "DB_PORT", "DB_CA_BUNDLE") if not env.get(k)]
        if missing:
            raise ConfigError(f"set {', '.join(missing)} (user data writes them to "
                              "/etc/platform-app/app.env)")
        settings = cls(
            environment=env["APP_ENVIRONMENT"],
            region=env["AWS_REGION"],
            secret_arn=env["DB_SECRET_ARN"],
            db_host=env["DB_HOST"],
            db_port=_number(env, "DB_PORT", int),
            ca_bundle=env["DB_CA_BUNDLE"],
            static_path=env.get("STATIC_PATH", "/static/"),
            metrics_namespace=env.get("METRICS_NAMESPACE", ""),
            metrics_endpoint=env.get("METRICS_ENDPOINT", ""),
            log_group=env.get("APP_LOG_GROUP", ""),
            instance_id=env.get("INSTANCE_ID", "unknown"),
            connect_timeout=_number(env, "DB_CONNECT_TIMEOUT", float, 1.5),
            query_timeout=_number(env, "DB_QUERY_TIMEOUT", float, 1.5),
            cache_seconds=_number(env, "HEALTH_CACHE_SECONDS", float, 2.0),
        )
        if not os.path.isfile(settings.ca_bundle):
            raise ConfigError(f"DB_CA_BUNDLE={settings.ca_bundle} does not exist: download the "
                              "RDS global bundle there (user data does) or point it at the CA file")
        if settings.connect_timeout <= 0 or settings.query_timeout <= 0:
            raise ConfigError("DB_CONNECT_TIMEOUT and DB_QUERY_TIMEOUT must be > 0 seconds")
        if settings.cache_seconds < 0:
            raise ConfigError("HEALTH_CACHE_SECONDS must be >= 0 (0 checks on every request)")
        return settings


def _number(env: Mapping[str, str], key: str, kind, default=None):
    raw = env.get(key)
    if raw in (None, ""):
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a number") from None
