"""The environment every terraform subprocess of ours gets (harness.terraform.terraform_env)."""
from pathlib import Path

import pytest

from harness.terraform import GO_GC_PERCENT, SANDBOX_CREDENTIALS, terraform_env

pytestmark = pytest.mark.unit

RC = Path("/tmp/project/terraform.rc")


def test_offline_quiet_and_never_debug_logging(monkeypatch):
    monkeypatch.setenv("TF_LOG", "TRACE")
    monkeypatch.delenv("GOGC", raising=False)
    env = terraform_env(RC)
    assert "TF_LOG" not in env, "debug logs print request bodies, secrets included"
    assert env["TF_CLI_CONFIG_FILE"] == str(RC)
    assert (env["CHECKPOINT_DISABLE"], env["TF_INPUT"], env["TF_IN_AUTOMATION"]) == ("1", "0", "1")
    assert env["GOGC"] == GO_GC_PERCENT == "400"


def test_a_gogc_the_caller_chose_is_kept(monkeypatch):
    monkeypatch.setenv("GOGC", "off")
    assert terraform_env(RC)["GOGC"] == "off"


def test_sandbox_swaps_the_callers_credentials_for_motos(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "prod-admin")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-of-the-caller")
    env = terraform_env(RC, "us-east-1", "http://127.0.0.1:5000")
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env
    assert env["AWS_ACCESS_KEY_ID"] == SANDBOX_CREDENTIALS["aws_access_key_id"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert terraform_env(RC)["AWS_PROFILE"] == "prod-admin", "outside the sandbox nothing is swapped"
