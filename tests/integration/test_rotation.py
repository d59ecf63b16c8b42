"""Secret rotation: the database secret rotates every 30 days through the rotation Lambda."""
from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pymysql
import pytest

from tests.integration import live_checks

pytestmark = pytest.mark.integration

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.mark.control("8.6.3")
def test_rotation_every_30_days_through_the_lambda(stack, clients, deployed_config):
    """The DB secret has rotation enabled, every 30 days, with the stack's rotation Lambda,
    which Secrets Manager (and only it, for this secret) may invoke."""
    secret = clients.secretsmanager.describe_secret(SecretId=stack.outputs.db_secret_arn)
    assert secret["RotationEnabled"] is True
    assert secret["RotationRules"]["AutomaticallyAfterDays"] == deployed_config.rotation_days == 30
    function = clients.client("lambda").get_function(
        FunctionName=stack.outputs.rotation_lambda_name)["Configuration"]
    assert secret["RotationLambdaARN"] == function["FunctionArn"]
    policy = json.loads(clients.client("lambda").get_policy(
        FunctionName=stack.outputs.rotation_lambda_name)["Policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"
              and s["Principal"] in ({"Service": "secretsmanager.amazonaws.com"},
                                     "secretsmanager.amazonaws.com")]
    assert allows, policy
    assert any(stack.outputs.db_secret_arn in json.dumps(s.get("Condition", {})) for s in allows), \
        "the Lambda permission is not scoped to this secret"
    assert function.get("VpcConfig", {}).get("SubnetIds"), "the Lambda must run in the VPC"


def _stages(clients, arn):
    return clients.secretsmanager.describe_secret(SecretId=arn)["VersionIdsToStages"]


_version_with = live_checks.version_with


@pytest.fixture
def rotation_handler(stack, monkeypatch):
    """The real rotation handler (lambda/rotation), talking to the sandbox's Secrets Manager."""
    if not stack.is_sandbox:
        pytest.skip("sandbox only: on AWS, test_rotate_secret_live rotates through the deployed "
                    "Lambda itself")
    monkeypatch.syspath_prepend(str(LAMBDA_DIR))
    for name in [m for m in sys.modules if m == "rotation" or m.startswith("rotation.")]:
        monkeypatch.delitem(sys.modules, name)
    from rotation import handler
    monkeypatch.setenv("SECRETS_MANAGER_ENDPOINT", stack.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", stack.region)
    monkeypatch.setenv("AWS_REGION", stack.region)
    return handler


class _Context:
    function_name = "rotation"
    aws_request_id = "integration-test"

    def get_remaining_time_in_millis(self):
        return 60_000


@pytest.mark.control("8.6.3")
def test_handler_rotates_the_deployed_secret_in_the_sandbox(stack, clients, rotation_handler,
                                                            mariadb, monkeypatch):
    """The real handler's four steps finish the rotation that enabling rotation started on
    the deployed secret (the token Secrets Manager staged AWSPENDING): AWSCURRENT moves to
    the new version, whose password the database accepts over verified TLS, and the old
    password stops working. moto cannot run the Lambda or an Aurora engine, so the
    secret's current value is first pointed at a TLS-only MariaDB on loopback; the
    Lambda's own tests cover the database side in depth."""
    sm = clients.secretsmanager
    arn = stack.outputs.db_secret_arn
    stages = _stages(clients, arn)
    token = _version_with(stages, "AWSPENDING")
    assert token, f"no rotation in progress on the deployed secret: {stages}"
    deployed_version = _version_with(stages, "AWSCURRENT")
    deployed = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    assert set(deployed) >= {"engine", "host", "port", "username", "password"}
    assert deployed["host"] == stack.outputs.db_cluster_endpoint

    user, old_password = "rot" + uuid.uuid4().hex[:8], "Old-" + uuid.uuid4().hex
    mariadb.create_user(user, old_password)
    stand_in = dict(deployed, host=mariadb.host, port=mariadb.port, username=user,
                    password=old_password)
    # A labelled version first, then AWSCURRENT moved onto it, as the handler's finishSecret
    # does (moto mis-stages a put_secret_value straight to AWSCURRENT mid-rotation).
    stand_in_version = sm.put_secret_value(SecretId=arn, SecretString=json.dumps(stand_in),
                                           VersionStages=["STANDIN"])["VersionId"]
    sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                   MoveToVersionId=stand_in_version,
                                   RemoveFromVersionId=deployed_version)
    # The deployed value names another host; the handler refuses mixed accounts, as it should.
    if "AWSPREVIOUS" in _stages(clients, arn).get(deployed_version, []):
        sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSPREVIOUS",
                                       RemoveFromVersionId=deployed_version)
    monkeypatch.setenv("DB_CA_BUNDLE_PATH", str(mariadb.ca_path))

    for step in STEPS:
        rotation_handler.lambda_handler({"Step": step, "SecretId": arn,
                                         "ClientRequestToken": token}, _Context())

    stages = _stages(clients, arn)
    assert _version_with(stages, "AWSCURRENT") == token
    assert _version_with(stages, "AWSPREVIOUS") == stand_in_version
    assert _version_with(stages, "AWSPENDING") is None
    new = json.loads(sm.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")["SecretString"])
    changed = new["password"] != old_password  # compared aside: a failure must not print them
    assert changed, "AWSCURRENT still holds the old password"
    assert (new["username"], new["host"], new["port"]) == (user, mariadb.host, mariadb.port)
    conn = mariadb.connect(user, new["password"])  # verified TLS; the server refuses plaintext
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone()[0] == 1
    finally:
        conn.close()
    with pytest.raises(pymysql.err.OperationalError):
        mariadb.connect(user, old_password)


@pytest.mark.live(reason="moto cannot run the rotation Lambda (rotate_secret logs an error and "
                         "returns 200 without rotating) and has no HTTP data plane for /health")
@pytest.mark.control("8.6.3")
def test_rotate_secret_live(stack, clients):
    """rotate_secret through the deployed Lambda: AWSCURRENT moves to a new version within
    5 minutes, the Lambda's testSecret step (verified TLS login with the new password)
    succeeded, and /health through CloudFront stays 200 afterwards."""
    live_checks.check_rotation(
        clients.secretsmanager, clients.logs, secret_arn=stack.outputs.db_secret_arn,
        log_group=stack.outputs.rotation_log_group_name,
        health_url=f"https://{stack.outputs.cloudfront_domain_name}/health",
        deadline_s=300, poll_s=10, health_checks=3, health_interval_s=10, health_timeout=30)
