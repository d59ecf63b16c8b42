"""Reading and writing the database secret in Secrets Manager.

The secret is the JSON the stack writes: {"engine": "mysql", "host", "port", "username",
"password", "dbClusterIdentifier"}. Every read is checked here so the steps can trust the shape.
"""
from __future__ import annotations

import json

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from . import jsonlog
from .errors import SecretFormatError

REQUIRED_FIELDS = ("engine", "host", "username", "password")
SUPPORTED_ENGINES = ("mysql",)


def client(endpoint_url: str | None):
    config = Config(connect_timeout=5, read_timeout=10,
                    retries={"max_attempts": 4, "mode": "standard"})
    return boto3.client("secretsmanager", endpoint_url=endpoint_url, config=config)


def is_not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def parse(secret_string: str | None, label: str) -> dict:
    try:
        value = json.loads(secret_string or "")
    except ValueError:
        raise SecretFormatError(f"the {label} version is not JSON; it must be the object "
                                "{engine, host, port, username, password}") from None
    if not isinstance(value, dict):
        raise SecretFormatError(f"the {label} version is not a JSON object")
    jsonlog.protect(value.get("password"))
    missing = [f for f in REQUIRED_FIELDS if not isinstance(value.get(f), str) or not value[f]]
    if missing:
        raise SecretFormatError(f"the {label} version lacks {', '.join(missing)}; put a value "
                                "with engine, host, username and password (and port)")
    if value["engine"] not in SUPPORTED_ENGINES:
        raise SecretFormatError(f"the {label} version has engine {value['engine']!r}; this "
                                f"function rotates {', '.join(SUPPORTED_ENGINES)} only")
    port = value.get("port", 3306)
    try:
        port = int(port)
    except (TypeError, ValueError):
        port = 0
    if not 0 < port < 65536:
        raise SecretFormatError(f"the {label} version has port {value.get('port')!r}; use "
                                "an integer 1..65535")
    value["port"] = port
    return value


def get(sm, secret_id: str, stage: str, token: str | None = None) -> dict:
    kwargs = {"SecretId": secret_id, "VersionStage": stage}
    if token:
        kwargs["VersionId"] = token
    response = sm.get_secret_value(**kwargs)
    return parse(response.get("SecretString"), stage)


def get_optional(sm, secret_id: str, stage: str, token: str | None = None) -> dict | None:
    try:
        return get(sm, secret_id, stage, token)
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise


def versions(sm, secret_id: str) -> tuple[dict, dict[str, list[str]]]:
    meta = sm.describe_secret(SecretId=secret_id)
    return meta, meta.get("VersionIdsToStages", {}) or {}


def version_with(stages_by_version: dict[str, list[str]], stage: str) -> str | None:
    for version, stages in stages_by_version.items():
        if stage in stages:
            return version
    return None
