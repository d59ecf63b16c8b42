"""Loopback stand-ins for what the live tests meet on AWS, each behaving as AWS documents it.

- ``edge_standin``: CloudFront in front of the instance app. /health is answered by the app's
  own WSGI code (app/platform_app/web.py) with a verdict the test sets, plus CloudFront's
  response headers; optionally a WAF rate-based rule in front (per client IP, a count over
  the evaluation window, 403 once past the limit, after a detection lag, as WAF documents:
  blocking is not instantaneous).
- ``origin_standin``: the ALB reached directly over HTTPS, not through CloudFront, its
  certificate naming another host. ``listener-403``: the listener answers 403 unless the
  request carries the origin header CloudFront adds;
  ``reset``: the connection is reset; ``silent``: the connection is accepted and never answered
  (a security group drops packets: the client times out); ``open`` (the broken one) serves
  anyone.
- ``imds_standin``: the instance metadata service (IMDSv2 documented behaviour: PUT
  /latest/api/token with a TTL header gives a token; a GET without a valid token is 401 when
  HttpTokens=required, 200 when optional).
- ``RotationService``: Secrets Manager's RotateSecret and the rotation Lambda, on a moto
  server: RotateSecret answers at once with the new version id and the rotation runs
  asynchronously, as the four Lambda steps do (AWSPENDING staged, each step logged to the
  Lambda's log group with the step and token, AWSCURRENT moved at finishSecret).

Every server binds 127.0.0.1 only, answers a bounded number of requests, and stops by itself
after ``LIFETIME_S`` if its owner never stops it (the fixtures stop it at teardown).
"""
from __future__ import annotations

import json
import logging
import secrets
import socket
import ssl
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any, Literal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from botocore.awsrequest import AWSResponse

from harness.certs import self_signed
from stack.context import ORIGIN_HEADER

APP_DIR = Path(__file__).resolve().parents[2] / "app"
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

from platform_app.health import Verdict  # noqa: E402  (the instance app lives in app/)
from platform_app.metrics import Metrics  # noqa: E402
from platform_app.web import Application  # noqa: E402

LOOPBACK = "127.0.0.1"
LIFETIME_S = 60.0          # a stand-in nobody stopped stops itself after this
MAX_REQUESTS = 1000        # more than any rehearsal sends; past it every answer is 503
WAF_BLOCK_BODY = b"<html><body><h1>403 Forbidden</h1><p>Request blocked.</p></body></html>"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# ------------------------------------------------------------------ the app behind the edge

class FixedHealth:
    """The app's HealthCheck with the database's answer chosen by the test: ``ok``, or a
    reason code the app reports (``db_unreachable``, ``db_credentials_rejected``, ...)."""

    def __init__(self, reason: str = "ok") -> None:
        self.reason = reason

    def verdict(self) -> Verdict:
        return Verdict(self.reason == "ok", self.reason, time.time())


def instance_app(health: FixedHealth) -> WSGIApp:
    quiet = logging.getLogger("standin.platform_app")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    app: WSGIApp = Application(health, Metrics("", "", "standin"), quiet,
                               environment="standin", instance_id="i-0standin",
                               static_path="/static/")
    return app


@dataclass(frozen=True)
class RateRule:
    """WAF's rate-based rule, scaled: ``limit`` requests per client IP within ``window_s``;
    WAF blocks only after it has noticed, ``lag`` requests past the limit here."""
    limit: int
    window_s: float = 300.0
    lag: int = 0


class _Budget:
    def __init__(self, limit: int) -> None:
        self._left, self._lock = limit, threading.Lock()
        self.served = 0

    def take(self) -> bool:
        with self._lock:
            self.served += 1
            self._left -= 1
            return self._left >= 0


class _RateCounter:
    def __init__(self, rule: RateRule) -> None:
        self.rule, self._seen = rule, defaultdict[str, deque[float]](deque)
        self._lock = threading.Lock()

    def blocks(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            seen = self._seen[client]
            seen.append(now)
            while seen and seen[0] < now - self.rule.window_s:
                seen.popleft()
            return len(seen) > self.rule.limit + self.rule.lag


def edge(app: WSGIApp, budget: _Budget, *, rate: RateRule | None = None,
         latency_s: float = 0.0, origin_secret: str | None = None,
         cloudfront: bool = True) -> WSGIApp:
    """CloudFront (+ WAF when ``rate``) in front of ``app``; with ``origin_secret``, the ALB
    listener rule: 403 unless the origin header carries the secret. ``cloudfront=False``: the
    ALB itself answers (no CloudFront headers)."""
    counter = _RateCounter(rate) if rate else None

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if latency_s:
            time.sleep(latency_s)
        if not budget.take():
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"stand-in request budget spent"]
        cf = [("Via", "1.1 standin.cloudfront.net (CloudFront)"),
              ("X-Amz-Cf-Id", uuid.uuid4().hex)]
        if counter and counter.blocks(environ.get("REMOTE_ADDR", "")):
            start_response("403 Forbidden", [("Content-Type", "text/html"),
                                             ("X-Cache", "Error from cloudfront"), *cf])
            return [WAF_BLOCK_BODY]
        header = "HTTP_" + ORIGIN_HEADER.upper().replace("-", "_")
        if origin_secret is not None and environ.get(header) != origin_secret:
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"Forbidden"]

        def with_cf(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            extra = cf + [("X-Cache", "Miss from cloudfront")] if cloudfront else []
            return start_response(status, headers + extra, *rest)
        return app(environ, with_cf)
    return serve


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


@contextmanager
def _serving(server: Any) -> Iterator[None]:
    """Serve in a daemon thread; stop at exit, or by itself after LIFETIME_S."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    timer = threading.Timer(LIFETIME_S, server.shutdown)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class HttpStandIn:
    url: str                 # http://127.0.0.1:<port>/health
    health: FixedHealth
    budget: _Budget

    @property
    def served(self) -> int:
        return self.budget.served


def _tls_context(common_name: str) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for ``common_name``; the key
    file exists only while it is loaded."""
    cert_pem, key_pem = self_signed(common_name, days=1)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        context.load_cert_chain(cert, key)
    return context


@contextmanager
def edge_standin(*, reason: str = "ok", rate: RateRule | None = None, latency_s: float = 0.0,
                 origin_secret: str | None = None, cloudfront: bool = True,
                 tls_name: str | None = None) -> Iterator[HttpStandIn]:
    """With ``tls_name``: HTTPS with a self-signed certificate for that name (not for the
    address the client uses, as the ALB's certificate does not name its DNS name)."""
    health, budget = FixedHealth(reason), _Budget(MAX_REQUESTS)
    app = edge(instance_app(health), budget, rate=rate, latency_s=latency_s,
               origin_secret=origin_secret, cloudfront=cloudfront)
    server = make_server(LOOPBACK, 0, app, server_class=_ThreadingWSGIServer,
                         handler_class=_QuietWSGIHandler)
    scheme = "http"
    if tls_name:
        server.socket = _tls_context(tls_name).wrap_socket(server.socket, server_side=True)
        scheme = "https"
    with _serving(server):
        yield HttpStandIn(f"{scheme}://{LOOPBACK}:{server.server_port}/health", health, budget)


# ------------------------------------------------------------------ the origin reached directly

OriginMode = Literal["listener-403", "reset", "silent", "open"]
ORIGIN_CERT_NAME = "origin-standin.sandbox.internal"


@contextmanager
def origin_standin(mode: OriginMode) -> Iterator[str]:
    """The ALB's address for a client that is not CloudFront; yields the /health URL."""
    if mode in ("listener-403", "open"):
        secret = secrets.token_urlsafe(16) if mode == "listener-403" else None
        with edge_standin(origin_secret=secret, cloudfront=False, tls_name=ORIGIN_CERT_NAME
                          ) as standin:
            yield standin.url
        return
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop, held = threading.Event(), []
    ends = time.monotonic() + LIFETIME_S

    def accept() -> None:
        accepted = 0
        while not stop.is_set() and time.monotonic() < ends and accepted < MAX_REQUESTS:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            accepted += 1
            if mode == "reset":
                # Linger 0: close() sends RST, as a middlebox resetting the connection does.
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"https://{LOOPBACK}:{listener.getsockname()[1]}/health"
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        listener.close()


# ------------------------------------------------------------------ instance metadata service

class _ImdsHandler(BaseHTTPRequestHandler):
    server: _ImdsServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _answer(self, status: int, body: bytes = b"") -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self) -> None:
        if not self.server.budget.take() or self.path != "/latest/api/token":
            return self._answer(404)
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self._answer(400)
        token = secrets.token_urlsafe(32)
        self.server.tokens.add(token)
        self._answer(200, token.encode())

    def do_GET(self) -> None:
        if not self.server.budget.take() or not self.path.startswith("/latest/meta-data/"):
            return self._answer(404)
        token = self.headers.get("X-aws-ec2-metadata-token")
        if token is not None and token not in self.server.tokens:
            return self._answer(401)
        if token is None and self.server.http_tokens == "required":
            return self._answer(401)
        self._answer(200, b"ami-id\ninstance-id\nlocal-ipv4\n")


class _ImdsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, http_tokens: Literal["required", "optional"]) -> None:
        super().__init__((LOOPBACK, 0), _ImdsHandler)
        self.http_tokens, self.tokens, self.budget = http_tokens, set[str](), _Budget(MAX_REQUESTS)


@contextmanager
def imds_standin(http_tokens: Literal["required", "optional"]) -> Iterator[str]:
    """Yields the stand-in's address (host:port), to put where 169.254.169.254 goes."""
    server = _ImdsServer(http_tokens)
    with _serving(server):
        yield f"{LOOPBACK}:{server.server_port}"


# ------------------------------------------------------------------ rotation through the Lambda

RotationMode = Literal["rotates", "stalls", "logs-elsewhere"]
ROTATION_STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationService:
    """Secrets Manager's RotateSecret on the client ``sm`` (other calls go to moto): answers
    at once with the new version id, then plays the rotation Lambda's four steps against moto
    in a thread, logging each step's start and end lines (the handler's JSON lines: event,
    step, secret_id, token) to ``log_group``.

    ``stalls``: createSecret runs, the Lambda then never finishes (AWSPENDING stays, AWSCURRENT
    does not move). ``logs-elsewhere``: the rotation completes but the Lambda logs to its
    default group /aws/lambda/<name>, not the stack's. ``on_finished`` runs after finishSecret
    (e.g. the app's health turning 503 on stale credentials)."""

    def __init__(self, sm: Any, moto_sm: Any, logs: Any, *, log_group: str,
                 mode: RotationMode = "rotates", step_delay_s: float = 0.1,
                 on_finished: Callable[[], None] | None = None) -> None:
        self._sm, self._logs, self._group = moto_sm, logs, log_group
        self._mode, self._delay, self._on_finished = mode, step_delay_s, on_finished
        self._threads: list[threading.Thread] = []
        self.failures: list[BaseException] = []
        sm.meta.events.register("before-call.secrets-manager.RotateSecret", self._rotate_secret)

    def _rotate_secret(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        request = json.loads(params["body"])
        described = self._sm.describe_secret(SecretId=request["SecretId"])
        token = request.get("ClientRequestToken") or str(uuid.uuid4())
        thread = threading.Thread(target=self._lambda, args=(described["ARN"], token), daemon=True)
        self._threads.append(thread)
        thread.start()
        return (AWSResponse(f"http://{LOOPBACK}/", 200, {}, None),
                {"ARN": described["ARN"], "Name": described["Name"], "VersionId": token})

    def _lambda(self, arn: str, token: str) -> None:
        group = self._group if self._mode != "logs-elsewhere" else "/aws/lambda/rotation-standin"
        try:
            for step in ROTATION_STEPS:
                time.sleep(self._delay)
                self._log(group, {"event": "step_started", "step": step, "secret_id": arn,
                                  "token": token})
                if step == "createSecret":
                    current = json.loads(self._sm.get_secret_value(SecretId=arn)["SecretString"])
                    fresh = dict(current, password=secrets.token_urlsafe(24))
                    self._sm.put_secret_value(SecretId=arn, ClientRequestToken=token,
                                              SecretString=json.dumps(fresh),
                                              VersionStages=["AWSPENDING"])
                if self._mode == "stalls":
                    return
                if step == "finishSecret":
                    self._promote(arn, token)
                self._log(group, {"event": "step_finished", "step": step, "secret_id": arn,
                                  "token": token, "duration_ms": int(self._delay * 1000)})
            if self._on_finished:
                self._on_finished()
        except BaseException as exc:  # kept for the test to report, not swallowed
            self.failures.append(exc)

    def _promote(self, arn: str, token: str) -> None:
        stages = self._sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
        current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
        self._sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                             MoveToVersionId=token, RemoveFromVersionId=current)
        self._sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING",
                                             RemoveFromVersionId=token)

    def _log(self, group: str, record: dict[str, Any]) -> None:
        line = json.dumps({"level": "INFO", **record}, sort_keys=True, separators=(",", ":"))
        stream = "standin"
        try:
            self._logs.create_log_group(logGroupName=group)
        except self._logs.exceptions.ResourceAlreadyExistsException:
            pass
        try:
            self._logs.create_log_stream(logGroupName=group, logStreamName=stream)
        except self._logs.exceptions.ResourceAlreadyExistsException:
            pass
        self._logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": int(time.time() * 1000), "message": line}])

    def join(self, timeout: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout)


# ------------------------------------------------------------------ API responses as AWS documents

def asg_description(name: str, instances: dict[str, str]) -> dict[str, Any]:
    """DescribeAutoScalingGroups for one group; ``instances``: id -> LifecycleState."""
    return {"AutoScalingGroups": [{
        "AutoScalingGroupName": name, "MinSize": 2, "MaxSize": 4, "DesiredCapacity": 2,
        "DefaultCooldown": 300, "AvailabilityZones": ["us-east-1a", "us-east-1b"],
        "HealthCheckType": "ELB", "CreatedTime": time.time(),
        "Instances": [{"InstanceId": i, "AvailabilityZone": "us-east-1a",
                       "LifecycleState": state, "HealthStatus": "Healthy",
                       "ProtectedFromScaleIn": False} for i, state in instances.items()]}]}


def instances_description(tokens: dict[str, str]) -> dict[str, Any]:
    """DescribeInstances; ``tokens``: instance id -> MetadataOptions.HttpTokens."""
    return {"Reservations": [{"ReservationId": "r-0standin", "Instances": [{
        "InstanceId": i, "State": {"Code": 16, "Name": "running"},
        "MetadataOptions": {"State": "applied", "HttpTokens": t, "HttpPutResponseHopLimit": 1,
                            "HttpEndpoint": "enabled"}} for i, t in tokens.items()]}]}


def db_instance_description(ident: str, *, performance_insights: bool) -> dict[str, Any]:
    """DescribeDBInstances for one Aurora member. With Performance Insights off, AWS
    reports PerformanceInsightsEnabled false and no key."""
    instance: dict[str, Any] = {"DBInstanceIdentifier": ident, "Engine": "aurora-mysql",
                                "DBInstanceStatus": "available",
                                "PerformanceInsightsEnabled": performance_insights}
    if performance_insights:
        instance["PerformanceInsightsKMSKeyId"] = (
            "arn:aws:kms:us-east-1:123456789012:key/0b7c5a8e-0000-4000-8000-000000000000")
        instance["PerformanceInsightsRetentionPeriod"] = 7
    return {"DBInstances": [instance]}


def command_invocation(command_id: str, instance_id: str, status: str,
                       stdout: str = "", stderr: str = "") -> dict[str, Any]:
    """GetCommandInvocation; StatusDetails as SSM names them for these statuses."""
    return {"CommandId": command_id, "InstanceId": instance_id,
            "DocumentName": "AWS-RunShellScript", "Status": status, "StatusDetails": status,
            "ResponseCode": 0 if status == "Success" else -1,
            "StandardOutputContent": stdout, "StandardErrorContent": stderr}
