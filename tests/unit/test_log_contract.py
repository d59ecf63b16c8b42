"""The metric filter patterns in stack/app_log_contract.py against the lines the instance
application really writes (its own logging code, driven through its WSGI entry point)."""
from __future__ import annotations

import io
import json
import logging
import socket
import sys
import uuid

import boto3
import pytest
from moto import mock_aws

from stack import app_log_contract as contract
from stack.userdata import APP_ROOT

pytestmark = pytest.mark.unit

sys.path.insert(0, str(APP_ROOT))
from platform_app import metrics as app_metrics  # noqa: E402
from platform_app.credentials import CredentialStore  # noqa: E402
from platform_app.database import Database  # noqa: E402
from platform_app.health import HealthCheck  # noqa: E402
from platform_app.logs import JsonFormatter  # noqa: E402
from platform_app.web import Application  # noqa: E402

sys.path.remove(str(APP_ROOT))


@pytest.mark.parametrize("pattern,line,expected", [
    (contract.HTTP_5XX_PATTERN, '{"status": 503}', True),
    (contract.HTTP_5XX_PATTERN, '{"status": 500}', True),
    (contract.HTTP_5XX_PATTERN, '{"status": 499}', False),
    (contract.HTTP_5XX_PATTERN, '{"status": "503"}', False),   # strings never compare as numbers
    (contract.HTTP_5XX_PATTERN, '{"level": "ERROR"}', False),  # missing field
    (contract.HTTP_5XX_PATTERN, "status=503 not json", False),
    (contract.EXCEPTION_PATTERN, '{"level": "ERROR"}', True),
    (contract.EXCEPTION_PATTERN, '{"level": "error"}', False),
    (contract.DB_FAILURE_PATTERN, '{"event": "db_check_failed", "level": "WARNING"}', True),
    (contract.DB_FAILURE_PATTERN, '{"event": "db_check"}', False),
    ('{ $.a.b = 1 && $.c != "x" }', '{"a": {"b": 1}, "c": "y"}', True),
    ('{ $.a.b = 1 && $.c != "x" }', '{"a": {"b": 1}, "c": "x"}', False),
])
def test_evaluator_follows_cloudwatch_json_filter_semantics(pattern, line, expected):
    assert contract.matches(pattern, line) is expected


def test_evaluator_refuses_syntax_it_does_not_implement():
    with pytest.raises(ValueError, match="unsupported"):
        contract.matches("{ ($.a = 1) || ($.b = 2) }", "{}")


def test_the_application_publishes_the_contracts_metric_names():
    assert app_metrics.METRIC_REQUEST_LATENCY == contract.METRIC_REQUEST_LATENCY
    assert app_metrics.METRIC_DB_CHECK_FAILURES == contract.METRIC_DB_CHECK_FAILURES


class _ExplodingSecrets:
    """A Secrets Manager client failing in a way nothing anticipates: an unhandled error."""

    def get_secret_value(self, **_):
        raise RuntimeError("unexpected")


def _closed_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"


def _app(secrets_client, stream: io.StringIO, ca_file: str, arn: str = ARN) -> Application:
    logger = logging.getLogger(f"contract-{uuid.uuid4().hex}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    metrics = app_metrics.Metrics("", "", "test")
    store = CredentialStore(arn, "us-east-1", client=secrets_client)
    db = Database("127.0.0.1", _closed_loopback_port(), ca_file, 1.0, 1.0)
    health = HealthCheck(store, db, metrics, logger, cache_seconds=0)
    return Application(health, metrics, logger, environment="test", instance_id="i-1",
                       static_path="/static/")


def _call(app: Application, path: str) -> int:
    status = []
    app({"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "127.0.0.1"},
        lambda s, h: status.append(int(s.split()[0])))
    return status[0]


@pytest.fixture
def ca_file(tmp_path):
    path = tmp_path / "ca.pem"
    path.write_text("")
    return str(path)


def test_a_failed_db_check_and_its_503_match_their_filters_and_nothing_else(ca_file):
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        arn = sm.create_secret(Name="db", SecretString=json.dumps(
            {"username": "app", "password": "p4ss-w0rd-not-logged"}))["ARN"]
        stream = io.StringIO()
        assert _call(_app(sm, stream, ca_file, arn), "/health") == 503
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert [contract.matches(contract.DB_FAILURE_PATTERN, line) for line in lines] == [True, False]
    assert [contract.matches(contract.HTTP_5XX_PATTERN, line) for line in lines] == [False, True]
    assert not any(contract.matches(contract.EXCEPTION_PATTERN, line) for line in lines)
    # The CA file here is empty: a broken bundle is a 503 with a reason, not a crash.
    assert json.loads(lines[1])["reason"] == "db_ca_bundle_unusable"
    assert "p4ss-w0rd-not-logged" not in stream.getvalue()


def test_an_unhandled_exception_matches_the_exception_and_5xx_filters(ca_file):
    stream = io.StringIO()
    app = _app(_ExplodingSecrets(), stream, ca_file)
    assert _call(app, "/health") == 500
    lines = stream.getvalue().splitlines()
    errors = [line for line in lines if contract.matches(contract.EXCEPTION_PATTERN, line)]
    assert len(errors) == 1 and json.loads(errors[0])["event"] == "unhandled_exception"
    assert len([line for line in lines if contract.matches(contract.HTTP_5XX_PATTERN, line)]) == 1


def test_ordinary_requests_match_no_alarm_filter(ca_file):
    stream = io.StringIO()
    app = _app(_ExplodingSecrets(), stream, ca_file)
    assert _call(app, "/nope") == 404
    line = stream.getvalue().strip()
    assert json.loads(line)["status"] == 404
    for pattern in (contract.HTTP_5XX_PATTERN, contract.EXCEPTION_PATTERN,
                    contract.DB_FAILURE_PATTERN):
        assert not contract.matches(pattern, line)


@pytest.mark.control("10.2.2")
def test_each_request_line_records_who_what_when_outcome_and_where(ca_file):
    """The audit fields of an application log line: event, time, outcome, origin, resource."""
    stream = io.StringIO()
    app = _app(_ExplodingSecrets(), stream, ca_file)
    assert _call(app, "/nope") == 404
    line = json.loads(stream.getvalue().strip())
    assert {"time", "level", "event", "request_id", "status", "method", "path"} <= set(line)
    assert (line["event"], line["status"], line["method"], line["path"]) == ("request", 404, "GET", "/nope")
