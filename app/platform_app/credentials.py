"""Database credentials from Secrets Manager by ARN: cached, and re-read only when the
database rejects them, so a rotation costs one extra read per worker and never an outage."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError


class SecretUnavailable(Exception):
    """The secret could not be read or parsed; the message never holds its value."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)
    dbname: str | None = None
    version_id: str = ""


class CredentialStore:
    def __init__(self, secret_arn: str, region: str, client=None):
        self._arn = secret_arn
        self._client = client or botocore.session.get_session().create_client(
            "secretsmanager", region_name=region,
            # One bounded attempt inside the health check's budget: a failed read is one
            # 503, and the ALB needs several in a row before it drains the target.
            config=Config(connect_timeout=0.5, read_timeout=1.0,
                          retries={"total_max_attempts": 1, "mode": "standard"}))
        self._lock = threading.Lock()
        self._cached: Credentials | None = None
        self.reads = 0

    def current(self) -> Credentials:
        with self._lock:
            if self._cached is None:
                self._cached = self._read("AWSCURRENT")
            return self._cached

    def after_rejection(self, rejected: Credentials) -> Credentials | None:
        """New credentials to try after the database refused ``rejected``, else None.

        AWSCURRENT first; if it still holds the refused password, a rotation is between
        setSecret and finishSecret and AWSPENDING already works on the database.
        """
        with self._lock:
            fresh = self._read("AWSCURRENT")
            if fresh.password != rejected.password:
                self._cached = fresh
                return fresh
            try:
                pending = self._read("AWSPENDING")
            except SecretUnavailable:
                return None
            if pending.password != rejected.password:
                # Cached too: otherwise every check would reopen the connection with the
                # refused AWSCURRENT until finishSecret moves the label.
                self._cached = pending
                return pending
            return None

    def _read(self, stage: str) -> Credentials:
        self.reads += 1
        try:
            resp = self._client.get_secret_value(SecretId=self._arn, VersionStage=stage)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "ClientError")
            raise SecretUnavailable("secret_unreadable", f"{code} reading {stage}; check the "
                                    "instance role's secretsmanager:GetSecretValue and KMS "
                                    "decrypt grants") from None
        except BotoCoreError as exc:
            raise SecretUnavailable("secret_unreadable", f"{type(exc).__name__} reading "
                                    f"{stage}; check the route to Secrets Manager") from None
        try:
            data = json.loads(resp["SecretString"])
            return Credentials(username=str(data["username"]), password=str(data["password"]),
                               dbname=data.get("dbname") or None,
                               version_id=resp.get("VersionId", ""))
        except (KeyError, TypeError, ValueError):
            # The parse error could quote the secret, so only its shape is reported.
            raise SecretUnavailable("secret_malformed", f"{stage} is not JSON with username "
                                    "and password") from None
