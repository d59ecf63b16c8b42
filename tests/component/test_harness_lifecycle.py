"""The harness's own mechanics, end to end: real pytest sessions (subprocesses) that deploy a
tiny Terraform JSON config (an S3 bucket and an SSM parameter) with real terraform and the
real AWS provider into a real moto server, then destroy it.

Counting is done from the workdir's events.jsonl, which every deploy/destroy step appends to
with its pid: that is the record a CI job or a human would read too.
"""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from harness import sandbox
from harness.progress import Progress
from harness.record import Status
from harness.terraform import Terraform, TerraformError, TransientTerraformError
from harness.workdir import StackWorkdir
from tests.component import child_pytest
from tests.component.child_pytest import new_suffix, pytest_command, pytest_env, status, workdir

pytestmark = pytest.mark.component

SECRET_MARK = "sekrit-"

# The tiny stack: same provider, mirror, backend and sandbox endpoint handling as the
# platform's synth, a few seconds to apply instead of minutes.
TINY_CONFTEST = textwrap.dedent('''
    import pytest
    from tests.component.tiny_stack import write_stack
    pytest_plugins = ["harness.plugin"]

    @pytest.hookimpl(tryfirst=True)
    def pytest_stack_synthesize(stack_config, outdir):
        s = stack_config.environment_suffix
        resources = {
            "aws_s3_bucket": {"b": {"bucket": f"harness-{s}"}},
            "aws_ssm_parameter": {"p": {"name": f"/harness/{s}", "type": "String", "value": "v"}},
        }
        outputs = {"bucket_name": {"value": "${aws_s3_bucket.b.bucket}"},
                   "token": {"value": "SECRET_MARK" + s, "sensitive": True}}
        return write_stack(stack_config, outdir, resources, outputs,
                           sandbox_services=("s3", "ssm", "sts"))
''').replace("SECRET_MARK", SECRET_MARK)

def make_project(tmp_path: Path, tests: str) -> Path:
    return child_pytest.make_project(tmp_path, TINY_CONFTEST, tests, "test_tiny.py")


def run_pytest(project: Path, *args: str, timeout: float = 420, **env: str):
    return subprocess.run(pytest_command("-rA", *args), cwd=project, env=pytest_env(**env),
                          capture_output=True, text=True, timeout=timeout)


def counts(wd: StackWorkdir) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in wd.events():
        out[e["event"]] = out.get(e["event"], 0) + 1
    return out


def assert_no_secret(project: Path, wd: StackWorkdir, proc) -> None:
    places = [proc.stdout, proc.stderr, wd.outputs_file.read_text(), wd.progress_file.read_text()]
    places += [p.read_text() for p in wd.logs_dir.glob("*.log")]
    assert not any(SECRET_MARK in text for text in places), "a sensitive output leaked"


XDIST_TESTS = '''
    import json, os, time
    from pathlib import Path
    import pytest
    pytestmark = pytest.mark.integration

    @pytest.mark.parametrize("n", range(6))
    def test_uses_stack(stack, n):
        """the bucket the stack made is there"""
        stack.clients.s3.head_bucket(Bucket=stack.output("bucket_name"))
        time.sleep(0.5)
        Path("ends").mkdir(exist_ok=True)
        Path(f"ends/{n}.json").write_text(json.dumps({"pid": os.getpid(), "at": time.time()}))
'''


def test_xdist_deploys_once_and_destroys_once_after_the_last_test(tmp_path):
    """Under `-n 2`, one worker deploys, the others reuse it, and the controller destroys
    exactly once, after every test of every worker has finished; the sandbox is stopped,
    nothing with the suffix is left and no sensitive output reaches a log."""
    project = make_project(tmp_path, XDIST_TESTS)
    suffix = new_suffix("xd")
    started = time.time()
    proc = subprocess.Popen(pytest_command("-n", "2", "--stack-suffix", suffix),
                            cwd=project, env=pytest_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=420)
    assert proc.returncode == 0, out[-3000:] + err[-3000:]

    wd = workdir(project, suffix)
    c = counts(wd)
    assert (c.get("deploy-start"), c.get("deploy-done"), c.get("destroy-start"),
            c.get("destroy-done")) == (1, 1, 1, 1), c
    events = {e["event"]: e for e in wd.events()}
    ends = [json.loads(p.read_text()) for p in (project / "ends").glob("*.json")]
    assert len(ends) == 6
    assert len({e["pid"] for e in ends}) == 2, "both workers should have run tests"
    assert events["deploy-start"]["pid"] in {e["pid"] for e in ends}  # a worker deployed
    assert events["destroy-start"]["pid"] == proc.pid  # the controller destroyed ...
    assert events["destroy-start"]["at"] > max(e["at"] for e in ends)  # ... after the last test
    assert events["deploy-start"]["at"] > started
    assert events["destroy-done"]["leftovers"] == []
    record = wd.deployment()
    assert record is not None
    assert record.status is Status.DESTROYED and record.started_moto
    assert not sandbox.alive(record.moto_pid), "the plugin's moto server is still running"
    assert "platform stack" in out and "proven:" in out and "the bucket the stack made" in out
    assert_no_secret(project, wd, subprocess.CompletedProcess([], 0, out, err))


# An apply that fails half way, SIGINT/SIGTERM, a crashed xdist worker and transient or
# permanent destroy failures: tests/component/test_faults.py.


KEEP_TESTS = '''
    import pytest
    pytestmark = pytest.mark.integration

    def test_bucket(stack):
        """the kept stack answers"""
        stack.clients.s3.head_bucket(Bucket=stack.output("bucket_name"))
'''


def test_keep_then_reuse_then_destroy_stack(tmp_path):
    """--keep-stack leaves the deployment (and its sandbox) up and says how to destroy it;
    --reuse-stack tests it without deploying or destroying; --destroy-stack removes it."""
    project = make_project(tmp_path, KEEP_TESTS)
    suffix = new_suffix("kp")
    wd = workdir(project, suffix)

    kept = run_pytest(project, "--keep-stack", "--stack-suffix", suffix)
    assert kept.returncode == 0, kept.stdout[-3000:]
    assert f"pytest --destroy-stack {suffix}" in kept.stdout
    record = wd.deployment()
    assert record is not None
    assert record.status is Status.DEPLOYED and sandbox.alive(record.moto_pid)
    try:
        reused = run_pytest(project, "--reuse-stack", suffix)
        assert reused.returncode == 0, reused.stdout[-3000:]
        assert counts(wd) == {"deploy-start": 1, "deploy-done": 1}

        again = run_pytest(project, "--stack-suffix", suffix)
        assert again.returncode == 1 and "already has a deployment" in again.stdout

        destroyed = run_pytest(project, "--destroy-stack", suffix)
        assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
        assert counts(wd) == {"deploy-start": 1, "deploy-done": 1, "destroy-start": 1,
                              "destroy-done": 1}
        assert status(wd) is Status.DESTROYED
        assert not sandbox.alive(record.moto_pid)
    finally:
        sandbox.stop(record.moto_pid)


KILL_SANDBOX_TESTS = '''
    import os, signal, time
    import pytest
    pytestmark = pytest.mark.integration

    def test_sandbox_dies(stack):
        """pulls the sandbox away so the destroy cannot succeed"""
        os.kill(int(os.environ["KILL_PID"]), signal.SIGTERM)
        time.sleep(2)
'''


def test_destroy_failure_fails_the_session_with_the_command_that_finishes_it(tmp_path):
    """When the destroy cannot finish, the session fails loudly, names the exact commands
    that finish it, and leaves the state file in place."""
    endpoint, pid = sandbox.start(tmp_path / "moto.log")
    try:
        project = make_project(tmp_path, KILL_SANDBOX_TESTS)
        suffix = new_suffix("df")
        proc = run_pytest(project, "--sandbox-endpoint", endpoint, "--stack-suffix", suffix,
                          KILL_PID=str(pid))
    finally:
        sandbox.stop(pid)
    assert proc.returncode == 1, proc.stdout[-3000:]
    wd = workdir(project, suffix)
    assert "DESTROY FAILED" in proc.stdout
    assert f"pytest --destroy-stack {suffix} --stack-workdir {wd.root}" in proc.stdout
    assert f"terraform -chdir={wd.tf_dir} destroy" in proc.stdout
    assert status(wd) is Status.DESTROY_FAILED
    assert wd.state_file.is_file() and "aws_s3_bucket" in wd.state_file.read_text()


def test_destroy_retries_transient_errors_with_backoff(tmp_path, monkeypatch):
    """A destroy that hits a transient error (throttling, state lock) is retried; a
    permanent error is not, and the last error is raised."""
    wd = StackWorkdir(tmp_path, "rt").create()
    tf = Terraform(wd, dict(os.environ), Progress(wd, write=lambda line: None),
                   destroy_attempts=3, destroy_wait_max=0)
    calls: list[str] = []

    def flaky(name, args, **kw):
        calls.append(name)
        if len(calls) < 3:
            raise TransientTerraformError("Throttling: Rate exceeded", wd.logs_dir / "x.log", True)

    monkeypatch.setattr(tf, "run", flaky)
    tf.destroy()
    assert calls == ["destroy"] * 3

    calls.clear()

    def always_throttled(name, args, **kw):
        calls.append(name)
        raise TransientTerraformError("Throttling: Rate exceeded", wd.logs_dir / "x.log", True)

    monkeypatch.setattr(tf, "run", always_throttled)
    with pytest.raises(TransientTerraformError):
        tf.destroy()
    assert len(calls) == 3

    calls.clear()

    def permanent(name, args, **kw):
        calls.append(name)
        raise TerraformError("AccessDenied", wd.logs_dir / "x.log")

    monkeypatch.setattr(tf, "run", permanent)
    with pytest.raises(TerraformError):
        tf.destroy()
    assert calls == ["destroy"]
