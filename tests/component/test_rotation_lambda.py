"""The rotation Lambda against a real MariaDB (TLS only) and Secrets Manager from moto.

The database driver is not mocked: every login goes over verified TLS to the ``mariadb`` server
from ``tests.fixtures.mariadb_tls``. Secrets Manager is a moto server on 127.0.0.1 that the
handler reaches through SECRETS_MANAGER_ENDPOINT, as the stack's sandbox does. Each test seeds its
own secret the way the stack does (JSON SecretString under a KMS key, rotation enabled with the
function's ARN every 30 days) and its own least-privilege database user.

moto's RotateSecret stages a fresh token as AWSPENDING, as AWS does, but cannot run the Lambda
(no Docker here), so the tests invoke ``lambda_handler`` for each step with the event Secrets
Manager would send.
"""
from __future__ import annotations

import contextlib
import json
import logging
import pathlib
import secrets
import sys
import uuid

import boto3
import pymysql
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "lambda"))

from rotation import errors, handler  # noqa: E402
from tests.fixtures.mariadb_tls import start_mariadb  # noqa: E402

pytestmark = pytest.mark.component

REGION = "us-east-1"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
SAFE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")


class _Context:
    aws_request_id = "req-test"


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def aws(moto_endpoint):
    kw = dict(endpoint_url=moto_endpoint, region_name=REGION, aws_access_key_id="testing",
              aws_secret_access_key="testing")
    return {name: boto3.client(name, **kw) for name in ("secretsmanager", "kms", "lambda", "iam")}


@pytest.fixture(scope="module")
def function_arn(aws, tmp_path_factory):
    """The rotation function registered in moto with the real package build.py makes."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("rotation_build", REPO / "lambda" / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    out = tmp_path_factory.mktemp("lambda")
    zip_path = build.make_zip(build.build(out), out / "rotation.zip")
    role = aws["iam"].create_role(
        RoleName="fintxn-rotation-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    return aws["lambda"].create_function(
        FunctionName="fintxn-rotation", Runtime=build.RUNTIME, Role=role, Handler=build.HANDLER,
        Code={"ZipFile": zip_path.read_bytes()}, Timeout=30)["FunctionArn"]


@pytest.fixture(scope="module")
def kms_key(aws):
    return aws["kms"].create_key(Description="db secret key")["KeyMetadata"]["Arn"]


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch, moto_endpoint, mariadb):
    """The environment the stack gives the function, pointed at the local servers."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("SECRETS_MANAGER_ENDPOINT", moto_endpoint)
    monkeypatch.setenv("DB_CA_BUNDLE_PATH", str(mariadb.ca_path))
    monkeypatch.setenv("DB_CONNECT_TIMEOUT_SECONDS", "3")


@pytest.fixture(autouse=True)
def no_secret_in_output(caplog, capsys):
    """Every password a test registers must be absent from all log lines and all output."""
    caplog.set_level(logging.DEBUG)
    passwords: set[str] = set()
    yield passwords
    out, err = capsys.readouterr()
    captured = caplog.text + out + err
    for record in caplog.records:
        captured += record.getMessage()
    assert passwords, "the test registered no password to look for"
    leaked = [p for p in passwords if p in captured]
    assert not leaked, "a password appeared in the logs or output"


class Seeded:
    """One secret and its database user, seeded as the stack seeds them."""

    def __init__(self, aws, mariadb, kms_key, function_arn, passwords, *, rotation=True,
                 server=None, host=None):
        self.sm, self.db = aws["secretsmanager"], server or mariadb
        self.passwords = passwords
        self.user = "u" + secrets.token_hex(6)
        self.initial_password = secrets.token_urlsafe(24)
        passwords.add(self.initial_password)
        if self.db.tls:
            self.db.create_user(self.user, self.initial_password, alter_self=False)
        self.value = {"engine": "mysql", "host": host or self.db.host, "port": self.db.port,
                      "username": self.user, "password": self.initial_password,
                      "dbClusterIdentifier": "fintxn-dev-aurora"}
        created = self.sm.create_secret(Name=f"fintxn-dev-db-credentials-{uuid.uuid4().hex[:8]}",
                                        KmsKeyId=kms_key, SecretString=json.dumps(self.value))
        self.arn, self.initial_version = created["ARN"], created["VersionId"]
        self.function_arn = function_arn
        self.token = self.start_rotation() if rotation else None

    def start_rotation(self) -> str:
        """RotateSecret as the stack's aws_secretsmanager_secret_rotation calls it."""
        self.sm.rotate_secret(SecretId=self.arn, RotationLambdaARN=self.function_arn,
                              RotationRules={"AutomaticallyAfterDays": 30})
        token = self.version_with("AWSPENDING")
        assert token is not None
        return token

    def run(self, step: str, token: str | None = None):
        return handler.lambda_handler(
            {"Step": step, "SecretId": self.arn, "ClientRequestToken": token or self.token},
            _Context())

    def rotate(self, token: str | None = None) -> None:
        for step in STEPS:
            self.run(step, token)

    def stages(self) -> dict[str, list[str]]:
        return {k: sorted(v) for k, v in
                self.sm.describe_secret(SecretId=self.arn)["VersionIdsToStages"].items()}

    def version_with(self, stage: str) -> str | None:
        return next((v for v, s in self.stages().items() if stage in s), None)

    def value_of(self, stage: str, token: str | None = None) -> dict:
        kw = {"VersionId": token} if token else {}
        value = json.loads(self.sm.get_secret_value(SecretId=self.arn, VersionStage=stage,
                                                    **kw)["SecretString"])
        self.passwords.add(value["password"])
        return value

    def accepts(self, password: str) -> bool:
        try:
            conn = self.db.connect(self.user, password)
        except pymysql.err.OperationalError as exc:
            assert exc.args[0] == 1045, f"unexpected database error {exc.args[0]}"
            return False
        with contextlib.closing(conn), conn.cursor() as cur:
            cur.execute("SELECT 1")
            return cur.fetchone() == (1,)


@pytest.fixture
def seed(aws, mariadb, kms_key, function_arn, no_secret_in_output):
    def make(**kw) -> Seeded:
        return Seeded(aws, mariadb, kms_key, function_arn, no_secret_in_output, **kw)
    return make


def rotation_log_lines(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "rotation"]


# ---------------------------------------------------------------- the happy path

@pytest.mark.control("8.6.3")
@pytest.mark.control("8.3.6")
def test_full_rotation_changes_the_password_and_moves_the_labels(seed, caplog):
    s = seed()
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}
    assert s.sm.describe_secret(SecretId=s.arn)["RotationRules"]["AutomaticallyAfterDays"] == 30

    s.rotate()

    new = s.value_of("AWSCURRENT")
    assert s.stages() == {s.initial_version: ["AWSPREVIOUS"], s.token: ["AWSCURRENT"]}
    assert new["password"] != s.initial_password
    assert len(new["password"]) == 32 and set(new["password"]) <= SAFE_CHARS
    # PCI DSS 8.3.6: at least 12 characters, both alphabetic and numeric.
    assert any(c.isalpha() for c in new["password"]) and any(c.isdigit() for c in new["password"])
    assert {k: v for k, v in new.items() if k != "password"} == \
        {k: v for k, v in s.value.items() if k != "password"}
    assert s.value_of("AWSPREVIOUS")["password"] == s.initial_password
    assert s.accepts(new["password"])
    assert not s.accepts(s.initial_password), "the old password still logs in"

    events = [line["event"] for line in rotation_log_lines(caplog)]
    for expected in ("pending_created", "logged_in", "password_set", "pending_login_ok",
                     "promoted"):
        assert expected in events
    assert all(line["token"] == s.token for line in rotation_log_lines(caplog)
               if "token" in line)


@pytest.mark.control("8.6.3")
def test_a_second_rotation_starts_clean_after_the_first(seed):
    s = seed()
    s.rotate()
    first = s.value_of("AWSCURRENT")["password"]
    second_token = s.start_rotation()
    s.rotate(second_token)
    second = s.value_of("AWSCURRENT")["password"]
    assert second not in (first, s.initial_password)
    assert s.accepts(second) and not s.accepts(first) and not s.accepts(s.initial_password)
    assert s.stages()[second_token] == ["AWSCURRENT"]
    assert s.stages()[s.token] == ["AWSPREVIOUS"]
    assert s.stages()[s.initial_version] == []


# ---------------------------------------------------------------- retries

@pytest.mark.control("8.6.3")
def test_every_step_is_idempotent_on_retry(seed):
    s = seed()
    s.run("createSecret")
    pending = s.value_of("AWSPENDING", s.token)
    s.run("createSecret")
    assert s.value_of("AWSPENDING", s.token) == pending, "a retry replaced the pending password"

    s.run("setSecret")
    s.run("setSecret")
    assert s.accepts(pending["password"]) and not s.accepts(s.initial_password)

    s.run("testSecret")
    s.run("testSecret")

    s.run("finishSecret")
    after_finish = s.stages()
    s.run("finishSecret")
    assert s.stages() == after_finish == {s.initial_version: ["AWSPREVIOUS"],
                                          s.token: ["AWSCURRENT"]}

    # Secrets Manager may redeliver any step after the rotation completed.
    for step in STEPS:
        s.run(step)
    assert s.value_of("AWSCURRENT")["password"] == pending["password"]
    assert s.accepts(pending["password"])


@pytest.mark.control("8.6.3")
def test_crash_between_set_and_finish_then_retry_completes(seed, mariadb):
    s = seed()
    s.run("createSecret")
    s.run("setSecret")
    pending = s.value_of("AWSPENDING", s.token)["password"]
    # The database now takes only the new password while AWSCURRENT still holds the old one.
    with mariadb.stopped():
        with pytest.raises(errors.DatabaseUnreachableError):
            s.run("finishSecret")
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}
    assert s.accepts(pending) and not s.accepts(s.initial_password)

    # Secrets Manager retries the rotation with the same token: every step must cope.
    s.rotate()
    assert s.stages() == {s.initial_version: ["AWSPREVIOUS"], s.token: ["AWSCURRENT"]}
    assert s.value_of("AWSCURRENT")["password"] == pending, "the retry made a new password"
    assert s.accepts(pending) and not s.accepts(s.initial_password)


def test_previous_credentials_are_the_last_resort(seed, mariadb, caplog):
    s = seed()
    s.rotate()
    current = s.value_of("AWSCURRENT")["password"]
    # The cluster comes back from a snapshot taken before that rotation.
    with contextlib.closing(mariadb.root()) as conn, conn.cursor() as cur:
        cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (s.user, s.initial_password))
    token = s.start_rotation()
    s.rotate(token)
    newest = s.value_of("AWSCURRENT")["password"]
    assert s.accepts(newest)
    assert not s.accepts(current) and not s.accepts(s.initial_password)
    assert {"event": "logged_in", "credentials": "AWSPREVIOUS"}.items() <= \
        [line for line in rotation_log_lines(caplog) if line["event"] == "logged_in"][-1].items()


# ---------------------------------------------------------------- failures

@pytest.mark.control("4.2.1", "8.3.2")
def test_untrusted_server_certificate_fails_and_changes_nothing(seed, mariadb, monkeypatch):
    """The server's certificate chains to a CA the function does not trust.

    Equivalent to a server presenting a certificate from another CA: the function's bundle
    (``other_ca_path``) did not sign the certificate it is shown.
    """
    s = seed()
    s.run("createSecret")
    pending = s.value_of("AWSPENDING", s.token)["password"]
    monkeypatch.setenv("DB_CA_BUNDLE_PATH", str(mariadb.other_ca_path))
    for step in ("setSecret", "testSecret", "finishSecret"):
        with pytest.raises(errors.DatabaseTlsError, match="not trusted") as failure:
            s.run(step)
        assert "DB_CA_BUNDLE_PATH" in str(failure.value)
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}
    assert s.accepts(s.initial_password) and not s.accepts(pending)
    assert s.value_of("AWSCURRENT")["password"] == s.initial_password


@pytest.mark.control("4.2.1", "8.3.2")
def test_certificate_for_another_name_fails_and_changes_nothing(seed):
    """Same server, trusted CA, but the secret names a host the certificate does not cover.

    "127.1" reaches 127.0.0.1, yet the certificate is only for localhost and 127.0.0.1.
    """
    s = seed(host="127.1")
    s.run("createSecret")
    pending = s.value_of("AWSPENDING", s.token)["password"]
    with pytest.raises(errors.DatabaseTlsError, match="Hostname mismatch"):
        s.run("setSecret")
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}
    assert s.accepts(s.initial_password) and not s.accepts(pending)


def test_rotation_through_the_certificate_dns_name(seed):
    s = seed(host="localhost")
    s.rotate()
    assert s.accepts(s.value_of("AWSCURRENT")["password"])
    assert not s.accepts(s.initial_password)


@pytest.mark.parametrize("name, value, message", [
    ("SECRETS_MANAGER_ENDPOINT", "http://secretsmanager.internal.example:80", "must be an https://"),
    ("DB_CA_BUNDLE_PATH", "/nonexistent/bundle.pem", "build the package with lambda/build.py"),
    ("DB_CONNECT_TIMEOUT_SECONDS", "0", "out of range"),
])
def test_bad_configuration_is_a_clear_error_before_any_call(seed, monkeypatch, name, value,
                                                            message):
    s = seed()
    monkeypatch.setenv(name, value)
    with pytest.raises(errors.ConfigError, match=message):
        s.run("createSecret")
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}


def test_database_down_is_a_clear_failure_and_a_retry_recovers(seed, mariadb):
    s = seed()
    s.run("createSecret")
    with mariadb.stopped():
        with pytest.raises(errors.DatabaseUnreachableError,
                           match=rf"cannot reach the database at 127\.0\.0\.1:{mariadb.port}.*"
                                 "security group"):
            s.run("setSecret")
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}
    assert s.accepts(s.initial_password)
    s.rotate()
    assert s.accepts(s.value_of("AWSCURRENT")["password"])
    assert not s.accepts(s.initial_password)


@pytest.mark.control("4.2.1", "8.3.2")
def test_server_without_tls_is_refused_never_plaintext(seed, tmp_path):
    with start_mariadb(tmp_path, tls=False) as plain:
        s = seed(server=plain)
        with contextlib.closing(pymysql.connect(unix_socket=str(plain.socket_path), user="root",
                                                ssl_disabled=True, autocommit=True)) as root, \
                root.cursor() as cur:
            cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (s.user, s.initial_password))
        s.run("createSecret")
        pending = s.value_of("AWSPENDING", s.token)["password"]
        with pytest.raises(errors.DatabaseTlsError, match="refusing to send credentials"):
            s.run("setSecret")
        assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}
        # The test's own check of this TLS-less server has to use plaintext; the function never did.
        check = pymysql.connect(host=plain.host, port=plain.port, user=s.user,
                                password=s.initial_password, ssl_disabled=True)
        check.close()
        with pytest.raises(pymysql.err.OperationalError):
            pymysql.connect(host=plain.host, port=plain.port, user=s.user, password=pending,
                            ssl_disabled=True)


def test_rotation_disabled_is_a_clear_error(seed, aws):
    s = seed(rotation=False)
    for step in STEPS:
        with pytest.raises(errors.NotRotatableError, match="does not have rotation enabled"):
            s.run(step, token=str(uuid.uuid4()))
    s2 = seed()
    aws["secretsmanager"].cancel_rotate_secret(SecretId=s2.arn)
    with pytest.raises(errors.NotRotatableError, match="does not have rotation enabled"):
        s2.run("createSecret")
    assert s.accepts(s.initial_password) and s2.accepts(s2.initial_password)
    assert s.stages() == {s.initial_version: ["AWSCURRENT"]}


def test_unstaged_token_is_a_clear_error(seed):
    s = seed()
    with pytest.raises(errors.NotRotatableError, match="does not exist"):
        s.run("createSecret", token=str(uuid.uuid4()))
    s.rotate()
    # The original version is AWSPREVIOUS now: not a rotation in progress.
    with pytest.raises(errors.NotRotatableError, match="not AWSPENDING"):
        s.run("setSecret", token=s.initial_version)
    assert s.accepts(s.value_of("AWSCURRENT")["password"])


@pytest.mark.parametrize("event, message", [
    ({"Step": "dropSecret"}, "unknown step 'dropSecret'"),
    ({"Step": None}, "lacks Step"),
    ({"Step": "setSecret", "ClientRequestToken": ""}, "lacks ClientRequestToken"),
])
def test_malformed_event_is_a_clear_error(seed, event, message):
    s = seed()
    full = {"SecretId": s.arn, "ClientRequestToken": s.token, **event}
    with pytest.raises(errors.EventError, match=message):
        handler.lambda_handler(full, _Context())
    assert s.stages() == {s.initial_version: ["AWSCURRENT"], s.token: ["AWSPENDING"]}


@pytest.mark.control("8.3.2")
def test_pending_for_another_server_is_refused(seed):
    s = seed()
    tampered = dict(s.value, host="127.0.0.2", password=secrets.token_urlsafe(24))
    s.passwords.add(tampered["password"])
    s.sm.put_secret_value(SecretId=s.arn, ClientRequestToken=s.token,
                          SecretString=json.dumps(tampered), VersionStages=["AWSPENDING"])
    with pytest.raises(errors.SecretFormatError, match="differ in host"):
        s.run("setSecret")
    assert s.accepts(s.initial_password)


@pytest.mark.control("8.3.2")
def test_an_error_that_echoes_a_secret_is_scrubbed_before_it_leaves(seed, caplog,
                                                                     monkeypatch):
    """Fault injection: a dependency's error message quotes the pending password."""
    s = seed()
    s.run("createSecret")
    pending = s.value_of("AWSPENDING", s.token)["password"]

    def echoing_failure(*args, **kwargs):
        raise RuntimeError(f"upstream said: bad value {pending!r}")

    monkeypatch.setattr(handler.secret_store, "get_optional", echoing_failure)
    with pytest.raises(errors.RotationError) as failure:
        s.run("setSecret")
    assert pending not in str(failure.value) and "[REDACTED]" in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    failed = [line for line in rotation_log_lines(caplog) if line["event"] == "step_failed"]
    assert failed[-1]["error_type"] == "RuntimeError" and failed[-1]["level"] == "ERROR"
    assert "[REDACTED]" in failed[-1]["error"]


@pytest.mark.parametrize("version, statement", [
    ("10.11.19-MariaDB-0+deb12u1", "SET PASSWORD = PASSWORD(%s)"),
    ("8.0.mysql_aurora.3.05.2", "SET PASSWORD = %s"),
    ("5.7.mysql_aurora.2.11.2", "SET PASSWORD = %s"),
    ("8.0.36", "SET PASSWORD = %s"),
])
def test_password_statement_suits_each_server(version, statement, no_secret_in_output):
    """Only MariaDB runs here; Aurora MySQL 2/3 take the plain literal, never PASSWORD()."""
    no_secret_in_output.add("not-a-secret-placeholder")
    assert handler.db.set_password_statement(version) == statement


def test_mysql_older_than_5_7_is_refused(no_secret_in_output):
    no_secret_in_output.add("not-a-secret-placeholder")
    with pytest.raises(errors.RotationError, match="older than 5.7"):
        handler.db.set_password_statement("5.6.10")
