"""Before a deploy or a reuse: the sandbox endpoint answers, and a server we did not start has
AWS's managed IAM policies loaded. Seconds here instead of a failure 105 s into the apply.

Bounds: the answer check is one HTTP GET with ANSWER_TIMEOUT; the IAM check is one
GetPolicy call, one attempt, IAM_CONNECT_TIMEOUT + IAM_READ_TIMEOUT at most.
"""
from __future__ import annotations

from harness import sandbox
from harness.aws_clients import AwsClients
from harness.errors import DeployError
from stack.managed_policies import ATTACHED

ANSWER_TIMEOUT = 2.0        # seconds for moto's dashboard to reply
IAM_CONNECT_TIMEOUT = 2.0   # seconds; one attempt, no retries
# moto builds its IAM backend, with ~1000 managed policies, on the first IAM call: that
# first reply can take a few seconds on a loaded machine.
IAM_READ_TIMEOUT = 15.0
START_MOTO = "MOTO_IAM_LOAD_MANAGED_POLICIES=true python -m moto.server -H 127.0.0.1 -p PORT"


def require_answering(endpoint: str, option: str = "--sandbox-endpoint") -> None:
    """DeployError naming ``option`` unless the sandbox at ``endpoint`` answers in time."""
    if not sandbox.is_up(endpoint, timeout=ANSWER_TIMEOUT):
        raise DeployError(f"{option} {endpoint} does not answer (no reply within "
                          f"{ANSWER_TIMEOUT:.0f} s): start it ({START_MOTO}), correct the "
                          "address, or omit the option to let the plugin start one")


def require_managed_policies(endpoint: str, region: str) -> None:
    """DeployError unless the server at ``endpoint`` knows AWS's managed IAM policies."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    arn = ATTACHED[0].format(partition="aws")  # any of them: moto loads all or none
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=IAM_CONNECT_TIMEOUT, read_timeout=IAM_READ_TIMEOUT)
    iam = AwsClients(region, endpoint=endpoint, config=config).iam
    try:
        iam.get_policy(PolicyArn=arn)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
            raise DeployError(f"--sandbox-endpoint {endpoint}: IAM GetPolicy {arn} failed "
                              f"({exc}); is it a moto server?") from None
        raise DeployError(
            f"--sandbox-endpoint {endpoint} has no AWS managed IAM policies (GetPolicy {arn}: "
            "NoSuchEntity), so the apply would fail on AttachRolePolicy: start the server "
            f"with MOTO_IAM_LOAD_MANAGED_POLICIES=true (`{START_MOTO}`), or omit the option "
            "to let the plugin start one") from None
    except BotoCoreError as exc:
        raise DeployError(f"--sandbox-endpoint {endpoint}: IAM did not answer GetPolicy within "
                          f"{IAM_CONNECT_TIMEOUT + IAM_READ_TIMEOUT:.0f} s ({exc})") from None


def check_given_sandbox(endpoint: str, region: str) -> None:
    """A server the caller started (--sandbox-endpoint): it answers and can hold the stack."""
    require_answering(endpoint)
    require_managed_policies(endpoint, region)
