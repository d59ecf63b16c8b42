"""Tests of the live tests: each check in tests/integration/live_checks.py runs here against a
loopback stand-in that behaves as AWS documents (tests/component/live_standins.py), once where
it must pass and once where it must fail with the live test's message. Bounds are scaled
through the functions' parameters so each takes at most a few seconds.

These rehearsals name no PCI DSS requirement (no ``control`` marker): the evidence keeps
counting the live-only requirements as live-only (tests/unit/test_live_rehearsal_evidence.py).
"""
from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from tests.component import live_standins as standins
from tests.integration import live_checks

pytestmark = pytest.mark.component

REGION = "us-east-1"
UNUSED_ENDPOINT = "http://127.0.0.1:9"   # Stubber answers; nothing is ever sent here


def _client(service: str, endpoint: str = UNUSED_ENDPOINT) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stubbed() -> Iterator[Any]:
    """stubbed(service) -> (client, Stubber); every queued answer must have been asked for."""
    stubs: list[Stubber] = []

    def make(service: str) -> tuple[Any, Stubber]:
        client = _client(service)
        stub = Stubber(client)
        stub.activate()
        stubs.append(stub)
        return client, stub
    yield make
    for stub in stubs:
        stub.deactivate()


# ------------------------------------------------------------------ /health through CloudFront

def test_health_check_passes_on_the_app_behind_cloudfront():
    with standins.edge_standin(reason="ok") as edge:
        answer = live_checks.get_health_200(edge.url, timeout=2)
    assert answer.status_code == 200
    assert json.loads(answer.body)["status"] == "ok"
    assert edge.served == 1


@pytest.mark.parametrize("reason", ["db_unreachable", "db_credentials_rejected"])
def test_health_check_fails_with_the_apps_reason_code(reason):
    with standins.edge_standin(reason=reason) as edge:
        with pytest.raises(AssertionError) as failure:
            live_checks.get_health_200(edge.url, timeout=2)
    body = json.loads(str(failure.value))   # the message is the app's 503 body
    assert (body["status"], body["reason"]) == ("unhealthy", reason)


# ------------------------------------------------------------------ the ALB reached directly

@pytest.mark.parametrize(("mode", "how", "detail"), [
    ("listener-403", "403", "Forbidden"),
    ("reset", "dropped", "ConnectionError"),
    ("silent", "dropped", "ReadTimeout"),
])
def test_direct_request_check_passes_when_the_origin_refuses(mode, how, detail):
    with standins.origin_standin(mode) as url:
        verdict = live_checks.check_direct_request_refused(url, timeout=0.5)
    assert (verdict.how, verdict.detail) == (how, detail)


def test_direct_request_check_fails_when_the_origin_serves_anyone():
    with standins.origin_standin("open") as url:
        with pytest.raises(AssertionError, match="^the ALB served a direct request: 200$"):
            live_checks.check_direct_request_refused(url, timeout=2)


# ------------------------------------------------------------------ WAF's rate-based rule

LIMIT = 20


def test_burst_check_passes_when_waf_blocks_past_the_limit():
    rule = standins.RateRule(limit=LIMIT, lag=3)
    with standins.edge_standin(rate=rule) as edge:
        verdict = live_checks.check_burst_blocked(edge.url, limit=LIMIT, deadline_s=10,
                                                  request_timeout=2)
    assert verdict.blocked_after == LIMIT + rule.lag + 1
    assert edge.served == verdict.blocked_after


def test_burst_check_fails_when_nothing_ever_blocks():
    with standins.edge_standin() as edge:
        with pytest.raises(AssertionError,
                           match=rf"^no 403 after {3 * LIMIT} requests \(limit {LIMIT}\)$"):
            live_checks.check_burst_blocked(edge.url, limit=LIMIT, deadline_s=10,
                                            request_timeout=2)
    assert edge.served == 3 * LIMIT   # bounded: not one request more


def test_burst_check_fails_when_blocked_below_half_the_limit():
    with standins.edge_standin(rate=standins.RateRule(limit=5)) as edge:
        with pytest.raises(AssertionError, match="^blocked after only 6 requests$"):
            live_checks.check_burst_blocked(edge.url, limit=LIMIT, deadline_s=10,
                                            request_timeout=2)


def test_burst_check_fails_at_its_time_bound():
    with standins.edge_standin(rate=standins.RateRule(limit=LIMIT), latency_s=0.05) as edge:
        with pytest.raises(AssertionError,
                           match=r"^no 403 within 0\.3 seconds \(\d+ requests\)$"):
            live_checks.check_burst_blocked(edge.url, limit=LIMIT, deadline_s=0.3,
                                            request_timeout=2)
    assert edge.served < LIMIT


# ------------------------------------------------------------------ rotation through the Lambda

LOG_GROUP = "/platform/standin/rotation"


@pytest.fixture
def rotation(moto_endpoint):
    """A secret on moto, its clients, and a factory for the stand-in rotation service."""
    moto_sm, logs = _client("secretsmanager", moto_endpoint), _client("logs", moto_endpoint)
    arn = moto_sm.create_secret(Name=f"db-{uuid.uuid4().hex[:10]}", SecretString=json.dumps({
        "engine": "mysql", "host": "127.0.0.1", "port": 3306, "username": "app",
        "password": uuid.uuid4().hex}))["ARN"]
    services: list[standins.RotationService] = []

    def start(mode: standins.RotationMode, on_finished=None) -> Any:
        sm = _client("secretsmanager", moto_endpoint)
        services.append(standins.RotationService(sm, moto_sm, logs, log_group=LOG_GROUP,
                                                 mode=mode, step_delay_s=0.05,
                                                 on_finished=on_finished))
        return sm
    yield arn, logs, moto_sm, start
    for service in services:
        service.join()
        assert not service.failures, service.failures
    moto_sm.delete_secret(SecretId=arn, ForceDeleteWithoutRecovery=True)


def _rotate(sm, logs, arn, health_url, *, deadline_s=5.0):
    return live_checks.check_rotation(sm, logs, secret_arn=arn, log_group=LOG_GROUP,
                                      health_url=health_url, deadline_s=deadline_s,
                                      poll_s=0.05, health_checks=3, health_interval_s=0.05,
                                      health_timeout=2)


def test_rotation_check_passes_when_the_lambda_rotates(rotation):
    arn, logs, moto_sm, start = rotation
    sm = start("rotates")
    with standins.edge_standin() as edge:
        verdict = _rotate(sm, logs, arn, edge.url)
        assert edge.served == 3
    stages = moto_sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    assert verdict.before and verdict.after != verdict.before
    assert stages[verdict.after] == ["AWSCURRENT"]
    assert stages[verdict.before] == ["AWSPREVIOUS"]
    assert verdict.seconds < 5


def test_rotation_check_fails_when_awscurrent_never_moves(rotation):
    arn, logs, _, start = rotation
    sm = start("stalls")
    with standins.edge_standin() as edge:
        with pytest.raises(AssertionError,
                           match="^AWSCURRENT did not change within 0.6 seconds$"):
            _rotate(sm, logs, arn, edge.url, deadline_s=0.6)
        assert edge.served == 0


def test_rotation_check_fails_without_a_testsecret_log_line(rotation):
    arn, logs, _, start = rotation
    sm = start("logs-elsewhere")
    with standins.edge_standin() as edge:
        with pytest.raises(AssertionError, match="^no testSecret log for the new version$"):
            _rotate(sm, logs, arn, edge.url)


def test_rotation_check_fails_when_health_breaks_after_the_rotation(rotation):
    arn, logs, _, start = rotation
    with standins.edge_standin() as edge:
        def stale_credentials() -> None:
            edge.health.reason = "db_credentials_rejected"
        sm = start("rotates", on_finished=stale_credentials)
        with pytest.raises(AssertionError, match='"reason":"db_credentials_rejected"'):
            _rotate(sm, logs, arn, edge.url)


def test_log_search_reads_past_empty_pages(stubbed):
    logs, stub = stubbed("logs")
    version = str(uuid.uuid4())
    asked = {"logGroupName": LOG_GROUP, "filterPattern": f'"{version}"'}
    line = json.dumps({"event": "step_finished", "step": "testSecret", "token": version})
    stub.add_response("filter_log_events", {"events": [], "nextToken": "page-2"}, asked)
    stub.add_response("filter_log_events", {"events": [], "nextToken": "page-3"},
                      {**asked, "nextToken": "page-2"})
    stub.add_response("filter_log_events", {"events": [{"message": line}]},
                      {**asked, "nextToken": "page-3"})
    assert live_checks.step_logged(logs, LOG_GROUP, version)
    stub.assert_no_pending_responses()
    stub.add_response("filter_log_events", {"events": [
        {"message": line.replace("testSecret", "createSecret")}]}, asked)
    assert not live_checks.step_logged(logs, LOG_GROUP, version)


# ------------------------------------------------------------------ IMDSv2 on the instances

ASG = "platform-standin-asg"
COMMAND_ID = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f"   # SSM command ids are UUIDs


def test_instance_tokens_check_passes_when_every_in_service_instance_requires_them(stubbed):
    autoscaling, asg_stub = stubbed("autoscaling")
    ec2, ec2_stub = stubbed("ec2")
    asg_stub.add_response("describe_auto_scaling_groups", standins.asg_description(
        ASG, {"i-0aaa": "InService", "i-0bbb": "InService", "i-0ccc": "Pending"}),
        {"AutoScalingGroupNames": [ASG]})
    ec2_stub.add_response("describe_instances", standins.instances_description(
        {"i-0aaa": "required", "i-0bbb": "required"}), {"InstanceIds": ["i-0aaa", "i-0bbb"]})
    assert live_checks.check_instances_require_tokens(autoscaling, ec2, ASG) == [
        "i-0aaa", "i-0bbb"]
    asg_stub.assert_no_pending_responses()
    ec2_stub.assert_no_pending_responses()


def test_instance_tokens_check_fails_on_an_instance_with_optional_tokens(stubbed):
    autoscaling, asg_stub = stubbed("autoscaling")
    ec2, ec2_stub = stubbed("ec2")
    asg_stub.add_response("describe_auto_scaling_groups", standins.asg_description(
        ASG, {"i-0aaa": "InService", "i-0bbb": "InService"}))
    ec2_stub.add_response("describe_instances", standins.instances_description(
        {"i-0aaa": "required", "i-0bbb": "optional"}))
    with pytest.raises(AssertionError, match="^i-0bbb$"):
        live_checks.check_instances_require_tokens(autoscaling, ec2, ASG)


def test_instance_tokens_check_fails_without_an_in_service_instance(stubbed):
    autoscaling, asg_stub = stubbed("autoscaling")
    ec2, _ = stubbed("ec2")
    asg_stub.add_response("describe_auto_scaling_groups",
                          standins.asg_description(ASG, {"i-0aaa": "Pending"}))
    with pytest.raises(AssertionError, match=f"^no InService instance in the Auto Scaling "
                                             f"group {ASG}$"):
        live_checks.check_instances_require_tokens(autoscaling, ec2, ASG)


def _probe_output(http_tokens) -> tuple[list[str], str]:
    """The live test's script, run by bash against the IMDS stand-in: what SSM would
    return as the command's output on an instance with these metadata options."""
    with standins.imds_standin(http_tokens) as address:
        script = live_checks.imds_probe_script(address)
        run = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True,
                             text=True, timeout=20, check=True)
    return script, run.stdout


def _ssm_with(stubbed, script, invocations) -> tuple[Any, Any, Stubber]:
    autoscaling, asg_stub = stubbed("autoscaling")
    ssm, ssm_stub = stubbed("ssm")
    asg_stub.add_response("describe_auto_scaling_groups", standins.asg_description(
        ASG, {"i-0aaa": "InService"}))
    ssm_stub.add_response("send_command", {"Command": {"CommandId": COMMAND_ID}}, {
        "InstanceIds": ["i-0aaa"], "DocumentName": "AWS-RunShellScript",
        "Parameters": {"commands": script}})
    for answer in invocations:
        if answer is None:   # SSM has not registered the invocation yet
            ssm_stub.add_client_error("get_command_invocation", "InvocationDoesNotExist",
                                      http_status_code=400)
        else:
            ssm_stub.add_response("get_command_invocation", answer,
                                  {"CommandId": COMMAND_ID, "InstanceId": "i-0aaa"})
    return autoscaling, ssm, ssm_stub


def test_imds_probe_passes_where_the_instance_requires_tokens(stubbed):
    script, output = _probe_output("required")
    assert output.strip() == "v1=401 v2=200"
    autoscaling, ssm, stub = _ssm_with(stubbed, script, [
        None, standins.command_invocation(COMMAND_ID, "i-0aaa", "InProgress"),
        standins.command_invocation(COMMAND_ID, "i-0aaa", "Success", stdout=output)])
    verdict = live_checks.check_imdsv1_refused_on_instance(autoscaling, ssm, ASG, deadline_s=2,
                                                           poll_s=0.01, script=script)
    assert verdict.instance_id == "i-0aaa"
    stub.assert_no_pending_responses()


def test_imds_probe_fails_where_imdsv1_answers(stubbed):
    script, output = _probe_output("optional")
    assert output.strip() == "v1=200 v2=200"
    autoscaling, ssm, _ = _ssm_with(stubbed, script, [
        standins.command_invocation(COMMAND_ID, "i-0aaa", "Success", stdout=output)])
    with pytest.raises(AssertionError, match="^v1=200 v2=200$"):
        live_checks.check_imdsv1_refused_on_instance(autoscaling, ssm, ASG, deadline_s=2,
                                                     poll_s=0.01, script=script)


def test_imds_probe_fails_when_the_command_fails(stubbed):
    script = live_checks.imds_probe_script()
    autoscaling, ssm, _ = _ssm_with(stubbed, script, [standins.command_invocation(
        COMMAND_ID, "i-0aaa", "Failed", stderr="curl: (7) Failed to connect")])
    with pytest.raises(AssertionError, match=r"^curl: \(7\) Failed to connect$"):
        live_checks.check_imdsv1_refused_on_instance(autoscaling, ssm, ASG, deadline_s=2,
                                                     poll_s=0.01)


def test_imds_probe_keeps_its_bound_while_the_invocation_never_appears(stubbed):
    script = live_checks.imds_probe_script()
    autoscaling, ssm, _ = _ssm_with(stubbed, script, [None] * 200)
    with pytest.raises(AssertionError, match="^SSM command did not finish in 0.2 seconds$"):
        live_checks.check_imdsv1_refused_on_instance(autoscaling, ssm, ASG, deadline_s=0.2,
                                                     poll_s=0.01)


# ------------------------------------------------------------------ Performance Insights

CLUSTER = {"DBClusterMembers": [{"DBInstanceIdentifier": "platform-db-1"},
                                {"DBInstanceIdentifier": "platform-db-2"}]}


def test_performance_insights_check_passes_when_every_member_has_it(stubbed):
    rds, stub = stubbed("rds")
    for member in CLUSTER["DBClusterMembers"]:
        ident = member["DBInstanceIdentifier"]
        stub.add_response("describe_db_instances", standins.db_instance_description(
            ident, performance_insights=True), {"DBInstanceIdentifier": ident})
    assert live_checks.check_performance_insights(rds, CLUSTER) == [
        "platform-db-1", "platform-db-2"]
    stub.assert_no_pending_responses()


def test_performance_insights_check_fails_on_a_member_without_it(stubbed):
    rds, stub = stubbed("rds")
    stub.add_response("describe_db_instances", standins.db_instance_description(
        "platform-db-1", performance_insights=True))
    stub.add_response("describe_db_instances", standins.db_instance_description(
        "platform-db-2", performance_insights=False))
    with pytest.raises(AssertionError,
                       match="^platform-db-2: PerformanceInsightsEnabled is False$"):
        live_checks.check_performance_insights(rds, CLUSTER)
