"""init, plan and apply retry transient errors with bounded backoff (harness.terraform).

A stand-in ``terraform`` on PATH (a shell script) fails the first calls of a command with a
transient or a permanent error, so the retry rule is exercised through the real runner:
subprocess, log per call, the exit code and the log's last lines.
"""
from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from harness import terraform
from harness.progress import Progress
from harness.workdir import StackWorkdir

pytestmark = pytest.mark.component

FAKE = textwrap.dedent('''\
    #!/bin/sh
    # Fails the first $FAIL_<CMD> calls of each command with $ERROR_TEXT, then succeeds.
    cmd="$1"
    calls="$CALLS_DIR/$cmd"
    n=$(( $(cat "$calls" 2>/dev/null || echo 0) + 1 ))
    echo "$n" > "$calls"
    echo "$cmd" >> "$CALLS_DIR/order"
    limit=$(eval echo "\\${FAIL_$(echo "$cmd" | tr a-z A-Z):-0}")
    if [ "$n" -le "$limit" ]; then
      echo "Error: $ERROR_TEXT"
      exit 1
    fi
    echo "$cmd ok"
''')


@pytest.fixture
def fake(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "terraform"
    script.write_text(FAKE)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls"
    calls.mkdir()
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    wd = StackWorkdir(tmp_path / "work", "t1").create()
    wd.tf_dir.mkdir(parents=True, exist_ok=True)
    said: list[str] = []

    def make(**env: str) -> terraform.Terraform:
        return terraform.Terraform(wd, {**os.environ, "CALLS_DIR": str(calls), **env},
                                   Progress(None, write=said.append), backoff_base=0.01)
    make.calls = calls  # type: ignore[attr-defined]
    make.said = said  # type: ignore[attr-defined]
    return make


def order(fake) -> list[str]:
    return (fake.calls / "order").read_text().split()


def test_init_and_plan_retry_a_transient_error(fake):
    tf = fake(FAIL_INIT="1", FAIL_PLAN="2", ERROR_TEXT="read: connection reset by peer")
    tf.init()
    tf.plan()
    assert order(fake) == ["init", "init", "plan", "plan", "plan"]
    assert any("init: attempt 1 hit a transient error" in s and "at most 3 attempts" in s
               for s in fake.said)


def test_a_transient_apply_error_applies_again(fake):
    """One `apply -auto-approve` plans what is left itself: the retry is the same command."""
    tf = fake(FAIL_APPLY="1", ERROR_TEXT="Throttling: Rate exceeded")
    tf.apply()
    assert order(fake) == ["apply", "apply"]


def test_a_transient_error_applying_a_saved_plan_plans_again_then_applies(fake):
    """After a partial apply the saved plan is stale: the retry plans the rest first."""
    tf = fake(FAIL_APPLY="1", ERROR_TEXT="Throttling: Rate exceeded")
    tf.apply_saved()
    assert order(fake) == ["apply", "plan", "apply"]


def test_a_permanent_error_is_not_retried(fake):
    tf = fake(FAIL_APPLY="1", ERROR_TEXT="InvalidPermission.Duplicate: the rule already exists")
    with pytest.raises(terraform.TerraformError, match="apply failed") as err:
        tf.apply()
    assert not isinstance(err.value, terraform.TransientTerraformError)
    assert order(fake) == ["apply"]


def test_retries_are_bounded(fake):
    tf = fake(FAIL_INIT="99", ERROR_TEXT="ServiceUnavailable")
    with pytest.raises(terraform.TransientTerraformError):
        tf.init()
    assert order(fake) == ["init"] * terraform.RETRY_ATTEMPTS
    assert terraform.RETRY_ATTEMPTS == 3 and terraform.RETRY_WITHIN_SECONDS == 900


def test_the_idempotency_plan_returns_exit_2_as_changes(fake, tmp_path):
    script = Path(os.environ["PATH"].split(os.pathsep)[0]) / "terraform"
    script.write_text("#!/bin/sh\necho 'Plan: 0 to add, 1 to change'\nexit 2\n")
    tf = fake()
    assert tf.plan_detailed("idempotency.tfplan") == 2
