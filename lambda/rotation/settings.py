"""The environment variables the rotation Lambda reads, their defaults and their limits.

========================== ============================================ ======================
variable                   default                                      meaning
========================== ============================================ ======================
SECRETS_MANAGER_ENDPOINT   unset: boto3's regional endpoint (or the VPC Secrets Manager URL. Must
                           interface endpoint through private DNS)      be https://, except
                                                                        http:// to a loopback
                                                                        address (local tests)
DB_CA_BUNDLE_PATH          <package>/rotation/certs/rds-global-bundle   PEM bundle the database
                           .pem (/var/task/rotation/certs/... in        certificate must chain
                           Lambda), copied there by lambda/build.py     to
DB_CONNECT_TIMEOUT_SECONDS 5 (1..60)                                    connect/read/write
                                                                        timeout per DB call
DB_PASSWORD_LENGTH         32 (20..41; RDS accepts at most 41           length of each new
                           characters for a MySQL master password)      password
LOG_LEVEL                  INFO                                         level of the JSON logs
========================== ============================================ ======================

AWS_REGION (set by Lambda) picks the region, as for any boto3 client. Settings are read on every
invocation, so nothing is cached between rotations.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlparse

from .errors import ConfigError

DEFAULT_CA_BUNDLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "certs",
                                 "rds-global-bundle.pem")
RDS_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


@dataclass(frozen=True)
class Settings:
    secrets_manager_endpoint: str | None
    ca_bundle_path: str
    connect_timeout: int
    password_length: int
    log_level: str


def _int(env: dict, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer; set it to {low}..{high} "
                          f"or unset it for {default}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is out of range; set it to {low}..{high} "
                          f"or unset it for {default}")
    return value


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _endpoint(env: dict) -> str | None:
    raw = env.get("SECRETS_MANAGER_ENDPOINT", "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme == "https" and parsed.hostname:
        return raw
    if parsed.scheme == "http" and _is_loopback(parsed.hostname):
        return raw
    # Secret values travel over this connection: never in clear text over a network.
    raise ConfigError(f"SECRETS_MANAGER_ENDPOINT={raw!r} must be an https:// URL (a VPC "
                      "endpoint) or http:// to a loopback address; unset it for the regional "
                      "endpoint")


def _ca_bundle(env: dict) -> str:
    path = env.get("DB_CA_BUNDLE_PATH", "").strip() or DEFAULT_CA_BUNDLE
    if not os.path.isfile(path):
        raise ConfigError(f"CA bundle {path} not found; build the package with lambda/build.py "
                          f"(it ships the RDS global bundle, {RDS_BUNDLE_URL}) or set "
                          "DB_CA_BUNDLE_PATH to a PEM bundle")
    return path


def load(env: dict | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"LOG_LEVEL={level!r}: use DEBUG, INFO, WARNING or ERROR")
    return Settings(
        secrets_manager_endpoint=_endpoint(env),
        ca_bundle_path=_ca_bundle(env),
        connect_timeout=_int(env, "DB_CONNECT_TIMEOUT_SECONDS", 5, 1, 60),
        password_length=_int(env, "DB_PASSWORD_LENGTH", 32, 20, 41),
        log_level=level,
    )
