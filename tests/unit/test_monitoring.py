import pytest

from stack import app_log_contract as contract

pytestmark = pytest.mark.unit


@pytest.mark.control("10.3.2", "10.3.3", "10.5.1")
def test_every_log_group_is_encrypted_with_explicit_retention(prod):
    groups = prod.list("aws_cloudwatch_log_group")
    names = {g["name"] for g in groups}
    assert {"/platform/app-prod-unit01", "/aws/lambda/rotation-prod-unit01",
            "/platform/vpc-flow-prod-unit01", "aws-waf-logs-waf-prod-unit01"} <= names
    assert {f"/aws/rds/cluster/aurora-prod-unit01/{k}" for k in ("audit", "error", "slowquery")} <= names
    for g in groups:
        assert "aws_kms_key.keys_kms-logs" in g["kms_key_id"]
        assert g["retention_in_days"] >= 365


@pytest.mark.control("10.7.2")
def test_alert_topic_is_encrypted_and_subscribes_the_configured_emails(prod, imported):
    topic = prod.one("aws_sns_topic")
    assert "aws_kms_key.keys_kms-logs" in topic["kms_master_key_id"]
    subs = prod.list("aws_sns_topic_subscription")
    assert {s["endpoint"] for s in subs} == {"oncall@example.com", "security@example.com"}
    assert "aws_sns_topic_subscription" not in imported.resource


@pytest.mark.control("10.4.1.1")
def test_metric_filters_use_the_application_log_contract(prod):
    patterns = {f["pattern"] for f in prod.list("aws_cloudwatch_log_metric_filter")}
    assert patterns == {contract.HTTP_5XX_PATTERN, contract.EXCEPTION_PATTERN, contract.DB_FAILURE_PATTERN}
    for f in prod.list("aws_cloudwatch_log_metric_filter"):
        assert f["metric_transformation"]["namespace"] == "Platform/app-prod-unit01"


@pytest.mark.parametrize("metric", [
    "HTTPCode_ELB_5XX_Count", "UnHealthyHostCount", "TargetResponseTime", "CPUUtilization",
    "DatabaseConnections", "Errors", "BlockedRequests", "Http5xx", "Exceptions",
    "DbConnectivityFailures"])
@pytest.mark.control("10.4.1.1", "10.7.2")
def test_alarm_exists_and_notifies_the_topic(prod, metric):
    alarms = [a for a in prod.list("aws_cloudwatch_metric_alarm") if a["metric_name"] == metric]
    assert alarms, f"no alarm on {metric}"
    topic = prod.ref("aws_sns_topic", prod.one("aws_sns_topic"), "arn")
    assert any(topic in a.get("alarm_actions", []) for a in alarms)
