"""Fail fast and never reach the wrong account (issue #14 item 6).

--stack-target aws: no credentials, or an account API that does not answer, is ONE session
error within 60 s (harness.account_check), before anything is created, instead of a
traceback per test after ~30 minutes of retries. And the sandbox's clients, with real-looking
credentials in the environment and the sandbox stopped, connect nowhere but loopback.
"""
from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from botocore.config import Config

from harness.account_check import ACCOUNT_CHECK_SECONDS
from harness.aws_clients import AwsClients
from harness.sweep import leftovers
from tests.component import child_pytest
from tests.component.child_pytest import HARNESS_CONFTEST, pytest_command, pytest_env

pytestmark = pytest.mark.component

TESTS = '''
    import pytest
    pytestmark = pytest.mark.integration

    @pytest.mark.parametrize("n", range(37))
    def test_needs_stack(stack, n):
        """the stack is there"""
'''

AMBIENT = {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
           "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
           "AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = child_pytest.make_project(tmp_path, HARNESS_CONFTEST, TESTS, "test_x.py")
    (p / "aws.json").write_text(json.dumps({
        "environment_suffix": "ignored", "allowed_account_ids": ["111111111111"],
        "tls": {"certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/"
                                   "11111111-1111-1111-1111-111111111111",
                "origin_domain_name": "origin.example.com"}}))
    return p


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_aws(project: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    base = pytest_env(AWS_CONFIG_FILE=str(project / "no-config"),
                      AWS_SHARED_CREDENTIALS_FILE=str(project / "no-credentials"),
                      AWS_EC2_METADATA_DISABLED="true", AWS_DEFAULT_REGION="us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                "AWS_ENDPOINT_URL"):
        base.pop(key, None)
    started = time.monotonic()
    proc = subprocess.run(pytest_command("--stack-target", "aws", "--stack-config=aws.json"),
                          cwd=project, env={**base, **env}, capture_output=True, text=True,
                          timeout=3 * ACCOUNT_CHECK_SECONDS)
    return proc, time.monotonic() - started


def assert_one_session_error(proc: subprocess.CompletedProcess[str], project: Path) -> None:
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert proc.stderr.count("ERROR:") == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "test_needs_stack" not in proc.stdout, "no test ran"
    assert "Nothing was created" in proc.stderr
    assert not (project / ".stack-work").exists()


def test_no_credentials_is_one_session_error_within_60s(project):
    proc, seconds = run_aws(project)
    assert_one_session_error(proc, project)
    assert "no usable AWS credentials" in proc.stderr and "AWS_PROFILE" in proc.stderr
    assert seconds < ACCOUNT_CHECK_SECONDS, seconds
    print(f"no credentials: session error after {seconds:.1f}s")


def test_an_account_api_that_refuses_connections_is_one_session_error_within_60s(project):
    proc, seconds = run_aws(project, AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
                            **AMBIENT)
    assert_one_session_error(proc, project)
    assert "the account API did not answer (gave up after" in proc.stderr
    assert seconds < ACCOUNT_CHECK_SECONDS, seconds
    print(f"account API refusing connections: session error after {seconds:.1f}s")


def test_an_account_api_that_accepts_and_never_answers_is_one_session_error_within_60s(project):
    """A black-holed network: the connection opens and no answer ever comes. Only the read
    timeouts and the attempt count end it (counted in test_attempt_bounds.py)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        proc, seconds = run_aws(project, AWS_ENDPOINT_URL=f"http://127.0.0.1:"
                                f"{silent.getsockname()[1]}", **AMBIENT)
    assert_one_session_error(proc, project)
    assert "the account API did not answer (gave up after" in proc.stderr
    assert "Read timeout" in proc.stderr
    assert seconds < ACCOUNT_CHECK_SECONDS, seconds
    print(f"account API silent: session error after {seconds:.1f}s")


def test_a_stopped_sandbox_with_real_looking_credentials_reaches_only_loopback(monkeypatch):
    """Every connection the sandbox's clients try (the whole leftover inventory, all its
    services) goes to a loopback address; the ambient keys are never used."""
    for key, value in {**AMBIENT, "AWS_PROFILE": "prod-admin",
                       "AWS_ENDPOINT_URL": "https://sts.amazonaws.com"}.items():
        monkeypatch.setenv(key, value)
    stopped = f"http://127.0.0.1:{free_port()}"
    tried: list[str] = []
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        host = str(address[0]) if isinstance(address, tuple) else str(address)
        tried.append(host)
        if not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a sandbox client connected to {host}")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)
    clients = AwsClients("us-east-1", endpoint=stopped,
                         config=Config(retries={"max_attempts": 1}, connect_timeout=2))
    check = leftovers(clients, "tiso1")
    assert tried and all(ipaddress.ip_address(h).is_loopback for h in tried)
    assert check.unchecked and not check.clean, "a stopped sandbox is never 'clean'"
