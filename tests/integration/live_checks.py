"""The live-only tests' request loops, time bounds and verdicts, as plain functions.

The live tests (``@pytest.mark.live``, run only against AWS) call these with the deployed
stack's URLs and clients and the bounds their docstrings state; the bounds are declared there
only (no defaults here). tests/component/
test_live_checks.py runs the same functions against loopback stand-ins that behave as AWS
documents, with scaled bounds, once passing and once failing: the first night on AWS is then
not the first run of this code. Each function returns a typed verdict or raises AssertionError
with the message the live test reports.

This module is not a test module, so pytest does not rewrite its asserts: every assert carries
its own message.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import requests
from urllib3.exceptions import InsecureRequestWarning

TEST_STEP = "testSecret"   # the rotation step whose log line proves the new login worked

# Run through SSM on an instance: an IMDSv1 request (no token), then an IMDSv2 one (PUT for a
# token, GET with it); prints both status codes. IMDS_ADDRESS is the documented link-local
# address; a rehearsal points it elsewhere with ``imds_probe_script(address)``.
IMDS_ADDRESS = "169.254.169.254"


def imds_probe_script(address: str = IMDS_ADDRESS) -> list[str]:
    base = f"http://{address}/latest"
    return [
        f'v1=$(curl -s -o /dev/null -w "%{{http_code}}" {base}/meta-data/)',
        'token=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" '
        f'{base}/api/token)',
        'v2=$(curl -s -o /dev/null -w "%{http_code}" -H "X-aws-ec2-metadata-token: $token" '
        f'{base}/meta-data/)',
        'echo "v1=$v1 v2=$v2"']


def span(seconds: float) -> str:
    """A bound as the messages state it: 300 -> "5 minutes", 0.5 -> "0.5 seconds"."""
    if seconds >= 60 and seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} second{'s' if seconds != 1 else ''}"


# ------------------------------------------------------------------ HTTP through the edge

@dataclass(frozen=True)
class HealthAnswer:
    status_code: int
    body: str


def get_health_200(url: str, *, timeout: float, excerpt: int = 500) -> HealthAnswer:
    """One GET of /health that must answer 200; the failure shows the body's first
    ``excerpt`` characters (the app's reason code, or CloudFront's error page)."""
    response = requests.get(url, timeout=timeout)
    assert response.status_code == 200, response.text[:excerpt]
    return HealthAnswer(response.status_code, response.text)


@dataclass(frozen=True)
class DirectRefusal:
    how: Literal["dropped", "403"]
    detail: str


def check_direct_request_refused(url: str, *, timeout: float) -> DirectRefusal:
    """A request straight to the origin must be dropped (nothing answers) or answered 403.
    A refused or reset connection counts as dropped, as a security group's silence does
    (a TLS failure would too: requests' SSLError is a ConnectionError, hence verify=False)."""
    try:
        with warnings.catch_warnings():
            # Unverified on purpose: the ALB's certificate names the origin domain, not the
            # ALB's DNS name, and only the answer matters here.
            warnings.simplefilter("ignore", InsecureRequestWarning)
            response = requests.get(url, timeout=timeout, verify=False)
    except (requests.ConnectionError, requests.Timeout) as exc:
        return DirectRefusal("dropped", type(exc).__name__)
    assert response.status_code == 403, f"the ALB served a direct request: {response.status_code}"
    return DirectRefusal("403", response.text[:200])


@dataclass(frozen=True)
class BurstVerdict:
    blocked_after: int   # requests sent, the first 403 included
    seconds: float


def check_burst_blocked(url: str, *, limit: int, deadline_s: float,
                        request_timeout: float) -> BurstVerdict:
    """One client sends up to 3x ``limit`` requests; the first 403 must come after more than
    half the limit and within ``deadline_s``."""
    started = time.monotonic()
    deadline = started + deadline_s
    with requests.Session() as session:
        for sent in range(1, 3 * limit + 1):
            status = session.get(url, timeout=request_timeout).status_code
            if status == 403:
                assert sent > limit * 0.5, f"blocked after only {sent} requests"
                return BurstVerdict(sent, time.monotonic() - started)
            assert time.monotonic() < deadline, \
                f"no 403 within {span(deadline_s)} ({sent} requests)"
    raise AssertionError(f"no 403 after {3 * limit} requests (limit {limit})")


# ------------------------------------------------------------------ secret rotation

def version_with(stages: dict[str, list[str]], stage: str) -> str | None:
    return next((v for v, s in stages.items() if stage in s), None)


def _current(sm: Any, secret_arn: str) -> str | None:
    return version_with(sm.describe_secret(SecretId=secret_arn)["VersionIdsToStages"],
                        "AWSCURRENT")


def step_logged(logs: Any, log_group: str, version: str, step: str = TEST_STEP) -> bool:
    """Whether the rotation Lambda logged ``step`` for ``version``. FilterLogEvents may answer
    a page with no events and a nextToken while more remain (AWS documents this), so the
    search reads every page until a line matches."""
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=log_group, filterPattern=f'"{version}"')
    return any(step in e["message"] for page in pages for e in page["events"])


@dataclass(frozen=True)
class RotationVerdict:
    before: str | None
    after: str
    seconds: float


def check_rotation(sm: Any, logs: Any, *, secret_arn: str, log_group: str, health_url: str,
                   deadline_s: float, poll_s: float, health_checks: int,
                   health_interval_s: float, health_timeout: float) -> RotationVerdict:
    """rotate_secret, then: AWSCURRENT moves within ``deadline_s``; the rotation Lambda logged
    its testSecret step for the new version; /health answers 200 ``health_checks`` times."""
    before = _current(sm, secret_arn)
    sm.rotate_secret(SecretId=secret_arn, RotateImmediately=True)
    started = time.monotonic()
    deadline = started + deadline_s
    while _current(sm, secret_arn) == before:
        assert time.monotonic() < deadline, f"AWSCURRENT did not change within {span(deadline_s)}"
        time.sleep(poll_s)
    after = _current(sm, secret_arn)
    assert after is not None, "AWSCURRENT is on no version after the rotation"
    seconds = time.monotonic() - started
    assert step_logged(logs, log_group, after), "no testSecret log for the new version"
    for _ in range(health_checks):
        get_health_200(health_url, timeout=health_timeout, excerpt=300)
        time.sleep(health_interval_s)
    return RotationVerdict(before, after, seconds)


# ------------------------------------------------------------------ instances and database

def in_service_instances(autoscaling: Any, asg_name: str) -> list[str]:
    group = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[asg_name])["AutoScalingGroups"][0]
    return [i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"]


def check_instances_require_tokens(autoscaling: Any, ec2: Any, asg_name: str) -> list[str]:
    """Each InService instance of the group reports MetadataOptions.HttpTokens=required;
    returns the instances checked."""
    ids = in_service_instances(autoscaling, asg_name)
    assert ids, f"no InService instance in the Auto Scaling group {asg_name}"
    checked = []
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            assert instance["MetadataOptions"]["HttpTokens"] == "required", instance["InstanceId"]
            checked.append(instance["InstanceId"])
    return checked


@dataclass(frozen=True)
class ImdsVerdict:
    instance_id: str
    output: str


def check_imdsv1_refused_on_instance(autoscaling: Any, ssm: Any, asg_name: str, *,
                                     deadline_s: float, poll_s: float,
                                     script: list[str] | None = None) -> ImdsVerdict:
    """Through SSM Run Command on one InService instance: IMDSv1 gets 401, IMDSv2 with a
    token gets 200. The bound holds while the invocation is not yet visible too (SSM
    answers InvocationDoesNotExist for a moment after send_command)."""
    ids = in_service_instances(autoscaling, asg_name)
    assert ids, f"no InService instance in the Auto Scaling group {asg_name}"
    instance_id = ids[0]
    command = ssm.send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                               Parameters={"commands": script or imds_probe_script()}
                               )["Command"]["CommandId"]
    deadline = time.monotonic() + deadline_s
    while True:
        time.sleep(poll_s)
        try:
            result = ssm.get_command_invocation(CommandId=command, InstanceId=instance_id)
        except ssm.exceptions.InvocationDoesNotExist:
            result = {"Status": "Pending"}
        if result["Status"] not in ("Pending", "InProgress", "Delayed"):
            break
        assert time.monotonic() < deadline, f"SSM command did not finish in {span(deadline_s)}"
    assert result["Status"] == "Success", result.get("StandardErrorContent")
    assert "v1=401" in result["StandardOutputContent"], result["StandardOutputContent"]
    assert "v2=200" in result["StandardOutputContent"], result["StandardOutputContent"]
    return ImdsVerdict(instance_id, result["StandardOutputContent"])


def check_performance_insights(rds: Any, cluster: dict[str, Any]) -> list[str]:
    """Performance Insights is enabled on each cluster member, encrypted with a KMS key;
    returns the instances checked."""
    checked = []
    for member in cluster["DBClusterMembers"]:
        ident = member["DBInstanceIdentifier"]
        inst = rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        enabled = inst.get("PerformanceInsightsEnabled")
        assert enabled is True, f"{ident}: PerformanceInsightsEnabled is {enabled!r}"
        assert inst.get("PerformanceInsightsKMSKeyId"), \
            f"{ident}: Performance Insights names no KMS key"
        checked.append(ident)
    return checked

