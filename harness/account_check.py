"""The aws target's first call: whose account the credentials are for, asked once, bounded.

Without a bound a missing credential or an STS that does not answer cost 8 SDK retries with
60 s reads in every test (about 30 minutes, issue #14). Here one STS GetCallerIdentity runs
in the session's owner before anything is created, and ends within ACCOUNT_CHECK_SECONDS.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from harness.errors import HarnessError

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 10
ATTEMPTS = 2  # in all (botocore's total_max_attempts; its max_attempts counts retries only)
# Worst case: ATTEMPTS x (connect + read) plus the SDK's short backoff between them,
# plus at most a few seconds of credential lookup (IMDS is 1 s x 1 attempt by default).
ACCOUNT_CHECK_SECONDS = 60


class AccountCheckError(HarnessError):
    """The aws target cannot be used: no credentials, or the account API does not answer."""


@dataclass(frozen=True)
class Caller:
    account: str
    arn: str


def caller_identity(region: str, profile: str | None = None) -> Caller:
    """The caller's account, or AccountCheckError naming what to fix."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import (BotoCoreError, ClientError, EndpointConnectionError,
                                     NoCredentialsError, PartialCredentialsError)
    config = Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT,
                    retries={"total_max_attempts": ATTEMPTS, "mode": "standard"})
    started = time.monotonic()
    try:
        sts = boto3.session.Session(region_name=region, profile_name=profile).client(
            "sts", config=config)
        identity = sts.get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise AccountCheckError(
            f"--stack-target aws: no usable AWS credentials ({exc}). Set AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for an account in allowed_account_ids, "
            "or run the sandbox (--stack-target sandbox). Nothing was created") from None
    except ClientError as exc:
        raise AccountCheckError(
            f"--stack-target aws: STS GetCallerIdentity refused the credentials ({exc}). "
            "Refresh or replace them (expired session token? wrong profile?). Nothing was "
            "created") from None
    except (EndpointConnectionError, BotoCoreError) as exc:
        raise AccountCheckError(
            f"--stack-target aws: the account API did not answer (gave up after "
            f"{time.monotonic() - started:.0f} s; bound {ACCOUNT_CHECK_SECONDS} s: {exc}). Check "
            "the network, a proxy or AWS_ENDPOINT_URL, then re-run. Nothing was created") from None
    return Caller(account=str(identity["Account"]), arn=str(identity["Arn"]))


def require_allowed_account(region: str, allowed: tuple[str, ...] | list[str],
                            config_file: object) -> Caller:
    """The caller, if its account is in the allow-list; otherwise AccountCheckError."""
    caller = caller_identity(region)
    if caller.account not in allowed:
        raise AccountCheckError(
            f"refusing to deploy: the caller's credentials are for account {caller.account}, "
            f"which is not in allowed_account_ids {list(allowed)} of {config_file}. Use "
            "credentials for an allowed (non-production) account, or add it to the allow-list "
            "if it really is a test account")
    return caller
