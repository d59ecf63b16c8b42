"""Each bounded AWS call makes exactly the attempts its code states, against a server that
accepts connections and never answers (a black-holed network).

botocore's ``retries={"max_attempts": N}`` counts retries, so it makes N + 1 attempts;
``total_max_attempts`` counts them all. The bounds these callers promise (one attempt inside
the health check's budget; one IAM call before a deploy; two STS calls within 60 s) hold
only with the latter. Each request opens its own connection: the server's backlog counts them.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from app.platform_app.credentials import CredentialStore, SecretUnavailable
from harness import account_check, preflight
from harness.errors import DeployError

pytestmark = pytest.mark.component

READ_TIMEOUT = 0.5  # seconds, where the caller's timeout is a module constant


class SilentServer:
    def __init__(self, server: socket.socket):
        self.server = server
        self.endpoint = f"http://127.0.0.1:{server.getsockname()[1]}"

    def connections(self) -> int:
        """How many connections wait in the backlog, each accepted and closed."""
        self.server.setblocking(False)
        count = 0
        while True:
            try:
                conn, _ = self.server.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def silent(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentServer]:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(64)
        found = SilentServer(server)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
            monkeypatch.delenv(key, raising=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL", found.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        yield found


def test_the_instance_app_reads_its_secret_once_within_the_health_budget(silent):
    store = CredentialStore("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                            "us-east-1")
    started = time.monotonic()
    with pytest.raises(SecretUnavailable, match="check the route to Secrets Manager"):
        store.current()
    assert silent.connections() == 1
    assert time.monotonic() - started < 3.0  # one 1 s read (and 0.5 s connect) at most


def test_the_sandbox_iam_check_calls_once(silent, monkeypatch):
    monkeypatch.setattr(preflight, "IAM_READ_TIMEOUT", READ_TIMEOUT)
    with pytest.raises(DeployError, match="IAM did not answer GetPolicy"):
        preflight.require_managed_policies(silent.endpoint, "us-east-1")
    assert silent.connections() == 1


def test_the_account_check_calls_sts_its_stated_number_of_times(silent, monkeypatch):
    monkeypatch.setattr(account_check, "READ_TIMEOUT", READ_TIMEOUT)
    with pytest.raises(account_check.AccountCheckError, match="did not answer"):
        account_check.caller_identity("us-east-1")
    assert silent.connections() == account_check.ATTEMPTS == 2
