"""boto3 clients bound to the deployment's target: the sandbox endpoint, or real AWS."""
from __future__ import annotations

import functools
import os
from typing import Any

from harness.errors import HarnessError
from stack.config import loopback_problem

SANDBOX_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# A sandbox session reads nothing from the caller's AWS setup: no AWS_PROFILE (a profile
# missing here would even fail the session), no config or credentials files. With the
# explicit test keys, no session token or credential provider is consulted either.
_SANDBOX_SESSION_VARS = {"profile": (None, None, None, None),
                         "config_file": (None, None, os.devnull, None),
                         "credentials_file": (None, None, os.devnull, None)}


class SandboxEndpointError(HarnessError):
    """A sandbox client without a loopback endpoint: it would reach AWS with ambient credentials."""


class AwsClients:
    """``clients.s3``, ``clients.ec2`` ... or ``clients.client("wafv2")``; one per service.

    In the sandbox every client goes to the moto endpoint with test credentials; on the aws
    target the caller's own credentials/profile and AWS's endpoints are used.
    """

    def __init__(self, region: str, endpoint: str | None = None, profile: str | None = None,
                 config: Any = None):
        import boto3                      # here, not at import: every pytest start loads the
        from botocore.config import Config  # plugin, few sessions talk to AWS (~0.2 s)
        import botocore.session
        self.region = region
        self.endpoint = endpoint
        if endpoint:
            problem = loopback_problem(endpoint)
            if problem:
                raise SandboxEndpointError(f"sandbox endpoint {endpoint!r}: {problem}. Pass "
                                           "--sandbox-endpoint http://127.0.0.1:PORT")
            core = botocore.session.Session(session_vars=_SANDBOX_SESSION_VARS)
            self._session = boto3.session.Session(botocore_session=core, region_name=region,
                                                  **SANDBOX_CREDENTIALS)
        else:
            self._session = boto3.session.Session(region_name=region, profile_name=profile)
        self._config = config or Config(retries={"max_attempts": 8, "mode": "standard"},
                                        connect_timeout=10, read_timeout=60)

    # Instances live as long as the process anyway (clients_for keeps one per target), so
    # the cache holding self leaks nothing.
    @functools.cache  # noqa: B019
    def client(self, service: str) -> Any:
        return self._session.client(service, endpoint_url=self.endpoint, config=self._config)

    def account_id(self) -> str:
        return str(self.client("sts").get_caller_identity()["Account"])

    def __getattr__(self, service: str) -> Any:
        # Only the services the platform uses, so a typo fails loudly instead of creating
        # a client for a service nobody meant.
        names = {"acm", "autoscaling", "cloudfront", "cloudwatch", "ec2", "elbv2", "iam", "kms",
                 "lambda_", "logs", "rds", "s3", "secretsmanager", "sns", "ssm", "sts", "wafv2",
                 "resourcegroupstaggingapi"}
        if service in names:
            return self.client(service.rstrip("_"))
        raise AttributeError(f"AwsClients has no client {service!r}; use .client({service!r})")


def sandbox_clients(region: str, endpoint: str | None) -> AwsClients:
    """The sandbox's clients; a sandbox with no endpoint recorded is an error, never a client
    that falls back to AWS's endpoints and the caller's credentials."""
    if not endpoint:
        raise SandboxEndpointError(
            "the sandbox has no endpoint recorded: refusing to build AWS clients without one "
            "(they would reach AWS with whatever credentials are set). Start the sandbox again "
            "or pass --sandbox-endpoint http://127.0.0.1:PORT")
    return clients_for(region, endpoint)


@functools.cache
def clients_for(region: str, endpoint: str | None = None) -> AwsClients:
    """One AwsClients per target for the whole process. Each boto3 session parses a service's
    model again (~0.35 s a service here): the destroy's certificate delete and leftover check
    used to make fresh sessions and re-read ~10 models the tests had already loaded."""
    return AwsClients(region, endpoint=endpoint)
