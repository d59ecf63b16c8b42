"""The instance application under gunicorn, against the real MariaDB-with-TLS fixture and a
moto Secrets Manager server, all on 127.0.0.1. Each test starts the app exactly as the
instance does (``gunicorn -c platform_app/gunicorn_conf.py``), only bound to loopback."""
from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import os
import pathlib
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import boto3
import pytest
import requests

from stack import app_log_contract as contract
from tests.fixtures.mariadb_tls import start_mariadb

pytestmark = pytest.mark.component

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP_DIR = ROOT / "app"
TARGET_GROUP_TIMEOUT_S = 5.0
CACHE_S = 1.0
REGION = "us-east-1"


def _free_port(kind=socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def sm(moto_endpoint):
    return boto3.client("secretsmanager", region_name=REGION, endpoint_url=moto_endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@dataclasses.dataclass(frozen=True)
class Account:
    user: str
    arn: str
    # Kept out of repr, so a failing test's report never prints it.
    password: str = dataclasses.field(repr=False)

    def __getitem__(self, key: str) -> str:
        return getattr(self, key)


@pytest.fixture
def account(mariadb, sm):
    """A database user of this test's own and its secret, as the rotation Lambda keeps it."""
    user = "app_" + uuid.uuid4().hex[:10]
    password = secrets.token_urlsafe(24)
    mariadb.create_user(user, password)
    arn = sm.create_secret(Name=f"db-{user}", SecretString=json.dumps({
        "engine": "mysql", "username": user, "password": password,
        "host": mariadb.server_name, "port": mariadb.port, "dbname": "health"}))["ARN"]
    yield Account(user=user, arn=arn, password=password)
    mariadb.drop_user(user)


class Forwarder:
    def __init__(self, port: int):
        self.port = port
        self.frozen = threading.Event()   # set: bytes stop flowing, connections stay open


@contextlib.contextmanager
def tcp_forwarder(listen_host: str, target_port: int):
    """127.0.0.x:port -> 127.0.0.1:target_port: lets the client dial an address that the
    server certificate does not name, or a writer that stops answering mid-connection."""
    listener = socket.socket()
    listener.bind((listen_host, 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()
    forwarder = Forwarder(listener.getsockname()[1])

    def pump(src, dst):
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                while forwarder.frozen.is_set() and not stop.is_set():
                    time.sleep(0.05)
                dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def serve():
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            upstream = socket.create_connection(("127.0.0.1", target_port), timeout=5)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield forwarder
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


class AppProcess:
    """The app under gunicorn; collects stdout (its JSON logs) and every response body."""

    def __init__(self, tmp_path: pathlib.Path, env: dict, workers: int):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"app-{self.port}.log"
        self.bodies: list[str] = []
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        full_env.update(env, PYTHONPATH=str(APP_DIR), APP_BIND=f"127.0.0.1:{self.port}",
                        APP_WORKERS=str(workers), APP_THREADS="8", PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c",
             str(APP_DIR / "platform_app" / "gunicorn_conf.py"), "platform_app.wsgi:application"],
            cwd=str(tmp_path), env=full_env, stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited {self.proc.returncode}:\n{self.logs()}")
            with contextlib.suppress(OSError), socket.create_connection(
                    ("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise AssertionError(f"gunicorn did not listen within 30 s:\n{self.logs()}")

    def get(self, path: str = "/health", timeout: float = 10) -> requests.Response:
        resp = requests.get(self.url + path, timeout=timeout)
        self.bodies.append(resp.text)
        return resp

    def logs(self) -> str:
        return self.log_path.read_text()

    def log_lines(self) -> list[dict]:
        lines = []
        for raw in self.logs().splitlines():
            assert raw.startswith("{"), f"a log line that is not JSON: {raw!r}"
            lines.append(json.loads(raw))
        return lines

    def raw_lines(self) -> list[str]:
        return self.logs().splitlines()

    def assert_never_shows(self, *values: str) -> None:
        everything = self.logs() + "\n".join(self.bodies)
        for value in values:
            assert value not in everything, "a secret value reached the logs or a response"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()


@pytest.fixture
def start_app(tmp_path, moto_endpoint, mariadb):
    started: list[AppProcess] = []

    def start(secret_arn: str, *, ca_path=None, host=None, port=None, workers=2,
              cache=CACHE_S, metrics_port=None) -> AppProcess:
        env = {
            "APP_ENVIRONMENT": "test", "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "DB_SECRET_ARN": secret_arn, "DB_HOST": host or mariadb.server_name,
            "DB_PORT": str(port or mariadb.port),
            "DB_CA_BUNDLE": str(ca_path or mariadb.ca_path),
            "HEALTH_CACHE_SECONDS": str(cache), "STATIC_PATH": "/static/",
            "INSTANCE_ID": "i-0123456789abcdef0",
        }
        if metrics_port:
            env.update(METRICS_ENDPOINT=f"udp://127.0.0.1:{metrics_port}",
                       METRICS_NAMESPACE="Platform/app-test-x", APP_LOG_GROUP="/platform/app-test-x")
        app = AppProcess(tmp_path, env, workers)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def _connections(mariadb, conn) -> int:
    with conn.cursor() as cur:
        cur.execute("SHOW GLOBAL STATUS LIKE 'Connections'")
        return int(cur.fetchone()[1])


def _kill_sessions(mariadb, user: str) -> int:
    """Drops the app's kept connections, as a failover or idle timeout would."""
    with contextlib.closing(mariadb.root()) as conn, conn.cursor() as cur:
        cur.execute("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = %s", (user,))
        ids = [row[0] for row in cur.fetchall()]
        for session in ids:
            cur.execute(f"KILL CONNECTION {int(session)}")
    return len(ids)


def _reasons(app: AppProcess) -> list[str]:
    return [line.get("reason") for line in app.log_lines() if line["event"] == "db_check_failed"]


def test_healthy_database_answers_200_and_a_burst_shares_one_connection_per_worker(
        mariadb, account, start_app):
    metrics = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    metrics.bind(("127.0.0.1", 0))
    metrics.settimeout(2)
    workers = 2
    app = start_app(account["arn"], workers=workers, metrics_port=metrics.getsockname()[1],
                    cache=30)
    first = app.get()
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "ok"
    assert first.headers["Cache-Control"] == "no-store"

    with contextlib.closing(mariadb.root()) as root:
        before = _connections(mariadb, root)
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            codes = list(pool.map(lambda _: app.get().status_code, range(200)))
        after = _connections(mariadb, root)
    assert codes == [200] * 200
    # The first request opened one worker's connection; the burst may open the other
    # worker's, never one per request.
    assert after - before <= workers - 1, f"{after - before} connections for 200 requests"

    page = app.get("/")
    assert page.status_code == 200
    assert 'href="/static/css/site.css"' in page.text and "platform is answering" in page.text
    assets = set(re.findall(r'(?:href|src)="/static/([^"]+)"', page.text))
    assert assets and all((APP_DIR / "static" / a).is_file() for a in assets), assets

    records = []
    with contextlib.suppress(socket.timeout):
        while len(records) < 50:
            records.append(json.loads(metrics.recv(65535)))
    metrics.close()
    names = {m["Name"] for r in records for d in r["_aws"]["CloudWatchMetrics"]
             for m in d["Metrics"]}
    assert {contract.METRIC_REQUEST_LATENCY, contract.METRIC_DB_CHECK_FAILURES} <= names
    assert {d["Namespace"] for r in records for d in r["_aws"]["CloudWatchMetrics"]} == {
        "Platform/app-test-x"}
    failures = [r[contract.METRIC_DB_CHECK_FAILURES] for r in records
                if contract.METRIC_DB_CHECK_FAILURES in r]
    assert failures and set(failures) == {0}

    lines = app.raw_lines()
    requests_logged = [json.loads(line) for line in lines if json.loads(line)["event"] == "request"]
    assert len(requests_logged) == 202 and {r["status"] for r in requests_logged} == {200}
    for pattern in (contract.HTTP_5XX_PATTERN, contract.EXCEPTION_PATTERN,
                    contract.DB_FAILURE_PATTERN):
        assert not [line for line in lines if contract.matches(pattern, line)], pattern
    app.assert_never_shows(account["password"])


def test_stopped_database_answers_503_within_the_target_group_timeout(
        mariadb, account, start_app):
    app = start_app(account["arn"])
    assert app.get().status_code == 200
    mariadb.stop()
    try:
        time.sleep(CACHE_S)
        started = time.monotonic()
        resp = app.get()
        elapsed = time.monotonic() - started
        assert resp.status_code == 503, resp.text
        assert resp.json()["reason"] == "db_unreachable"
        assert elapsed < TARGET_GROUP_TIMEOUT_S / 2, f"503 took {elapsed:.2f} s"
    finally:
        mariadb.start()
    time.sleep(CACHE_S)
    assert app.get().status_code == 200, "the app did not recover after the database came back"

    lines = app.raw_lines()
    db_failures = [line for line in lines if contract.matches(contract.DB_FAILURE_PATTERN, line)]
    http_5xx = [line for line in lines if contract.matches(contract.HTTP_5XX_PATTERN, line)]
    assert len(db_failures) == 1 and len(http_5xx) == 1
    assert not [line for line in lines if contract.matches(contract.EXCEPTION_PATTERN, line)]
    app.assert_never_shows(account["password"])


def test_database_that_never_answers_503s_within_the_target_group_timeout(account, start_app):
    """A listener that accepts TCP but never greets, as a hung or black-holed writer."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        app = start_app(account["arn"], port=silent.getsockname()[1])
        started = time.monotonic()
        resp = app.get()
        elapsed = time.monotonic() - started
    assert resp.status_code == 503
    assert resp.json()["reason"] == "db_timeout"
    assert elapsed < TARGET_GROUP_TIMEOUT_S - 1, f"503 took {elapsed:.2f} s"


def test_writer_hanging_on_the_kept_connection_503s_without_a_second_wait(
        mariadb, account, start_app):
    """The kept connection's query times out; a reconnect would double the wait."""
    with tcp_forwarder("127.0.0.1", mariadb.port) as forwarder:
        app = start_app(account["arn"], port=forwarder.port, workers=1)
        assert app.get().status_code == 200
        forwarder.frozen.set()
        time.sleep(CACHE_S)
        started = time.monotonic()
        resp = app.get()
        elapsed = time.monotonic() - started
        forwarder.frozen.clear()
    assert resp.status_code == 503
    assert resp.json()["reason"] == "db_timeout"
    assert 1.4 < elapsed < 2.5, f"{elapsed:.2f} s: expected one 1.5 s query timeout"


@pytest.mark.control("4.2.1", "8.3.2")
def test_server_certificate_from_another_ca_answers_503(mariadb, account, start_app):
    app = start_app(account["arn"], ca_path=mariadb.other_ca_path)
    resp = app.get()
    assert resp.status_code == 503
    assert resp.json()["reason"] == "db_tls_verification_failed"
    assert "certificate" in " ".join(line.get("detail", "") for line in app.log_lines())
    app.assert_never_shows(account["password"])


@pytest.mark.control("4.2.1", "8.3.2")
def test_server_certificate_for_another_host_name_answers_503(mariadb, account, start_app):
    """Right CA, wrong name: 127.0.0.2 is not in the certificate, so hostname
    verification, not the chain, must refuse it."""
    with tcp_forwarder("127.0.0.2", mariadb.port) as forwarder:
        app = start_app(account["arn"], host="127.0.0.2", port=forwarder.port)
        resp = app.get()
    assert resp.status_code == 503
    assert resp.json()["reason"] == "db_tls_verification_failed"
    assert "mismatch" in " ".join(line.get("detail", "") for line in app.log_lines()).lower()
    app.assert_never_shows(account["password"])


@pytest.mark.control("4.2.1", "8.3.2")
def test_server_without_tls_is_refused_never_plaintext(tmp_path,
                                                      account, start_app):
    with start_mariadb(tmp_path / "plain", tls=False) as plain:
        app = start_app(account["arn"], port=plain.port)
        resp = app.get()
    assert resp.status_code == 503
    assert resp.json()["reason"] == "db_tls_failed"
    app.assert_never_shows(account["password"])


@pytest.mark.control("8.6.3")
def test_rotated_password_answers_200_again_without_a_restart(mariadb, sm, account, start_app):
    # One worker, so the request after the rotation meets the worker holding the old
    # password, not a fresh one that reads the new secret anyway.
    app = start_app(account["arn"], workers=1)
    assert app.get().status_code == 200
    pid = app.proc.pid
    new_password = secrets.token_urlsafe(24)
    with contextlib.closing(mariadb.root()) as conn, conn.cursor() as cur:
        cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (account["user"], new_password))
    sm.put_secret_value(SecretId=account["arn"], SecretString=json.dumps({
        "engine": "mysql", "username": account["user"], "password": new_password,
        "dbname": "health"}))
    assert _kill_sessions(mariadb, account["user"]) >= 1
    time.sleep(CACHE_S)
    resp = app.get()
    assert resp.status_code == 200, resp.text
    assert app.proc.pid == pid and app.proc.poll() is None
    assert "credentials_refreshed" in [line["event"] for line in app.log_lines()]
    app.assert_never_shows(account["password"], new_password)


@pytest.mark.control("8.6.3")
def test_mid_rotation_the_pending_password_keeps_the_target_healthy(
        mariadb, sm, account, start_app):
    """Between setSecret and finishSecret the database has AWSPENDING's password while
    AWSCURRENT still holds the old one: an instance reconnecting then must stay healthy."""
    app = start_app(account["arn"], workers=1)
    assert app.get().status_code == 200
    new_password = secrets.token_urlsafe(24)
    sm.put_secret_value(SecretId=account["arn"], ClientRequestToken=str(uuid.uuid4()),
                        VersionStages=["AWSPENDING"], SecretString=json.dumps({
                            "username": account["user"], "password": new_password}))
    with contextlib.closing(mariadb.root()) as conn, conn.cursor() as cur:
        cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (account["user"], new_password))
    assert _kill_sessions(mariadb, account["user"]) >= 1
    time.sleep(CACHE_S)
    resp = app.get()
    assert resp.status_code == 200, resp.text
    assert "credentials_refreshed" in [line["event"] for line in app.log_lines()]
    app.assert_never_shows(account["password"], new_password)


def test_unreadable_secret_answers_503(mariadb, sm, account, start_app):
    missing = account["arn"].rsplit("-", 1)[0] + "-gone00"
    app = start_app(missing)
    resp = app.get()
    assert resp.status_code == 503
    assert resp.json()["reason"] == "secret_unreadable"
    detail = " ".join(line.get("detail", "") for line in app.log_lines())
    assert "ResourceNotFoundException" in detail
    app.assert_never_shows(account["password"])


def test_wrong_password_everywhere_answers_503_credentials_rejected(mariadb, sm, account,
                                                                   start_app):
    sm.put_secret_value(SecretId=account["arn"], SecretString=json.dumps({
        "username": account["user"], "password": "not-" + account["password"]}))
    app = start_app(account["arn"])
    resp = app.get()
    assert resp.status_code == 503
    assert resp.json()["reason"] == "db_credentials_rejected"
    app.assert_never_shows(account["password"], "not-" + account["password"])
