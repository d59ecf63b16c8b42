"""Fault injection: the harness survives each fault and leaves nothing behind.

Every test runs a real pytest session (subprocess) that deploys a small Terraform config
with real terraform and the real AWS provider into a real moto server that the test owns,
injects one fault for real, and then asks moto, through the sweeper's finder (names, tag
values through the tagging API, per-service describe calls) and the harness's own
leftover check, whether anything carrying the run's suffix remains. It must be nothing.

The config has six resources of six types in five services (S3, SSM, IAM, Logs, SNS, EC2),
in two layers, so "half way" is meaningful: layer 1 (bucket, parameter, role) is created
before the fault, layer 2 (log group, topic, security group) only after it.

    1  a resource fails in the middle of apply      -> the partial stack is destroyed
    2  SIGINT during apply                          -> destroyed, then exit non-zero
    3  SIGTERM during the tests                     -> destroyed
    4  an xdist worker dies (os._exit)              -> one destroy, after the others finish
    5  destroy meets throttling (proxy in front)    -> retried with backoff, completed
    6  destroy is denied for good                   -> state/plan/logs kept, session fails
                                                       with the command; that command
                                                       finishes it once the denial is lifted
"""
from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness import sandbox, terraform
from harness.aws_clients import AwsClients
from harness.record import Status
from harness.sweep import leftovers
from harness.workdir import StackWorkdir
from tests.component import child_pytest
from tests.component.child_pytest import new_suffix, pytest_command, pytest_env, status, workdir
from tests.component.fault_proxy import FaultProxy

pytestmark = pytest.mark.component

LAYER1 = ("aws_s3_bucket.b", "aws_ssm_parameter.p", "aws_iam_role.r")
LAYER2 = ("aws_cloudwatch_log_group.g", "aws_sns_topic.t", "aws_security_group.sg")

# FAULT_MODE (environment of the pytest subprocess):
#   apply-fails  an S3 object into a bucket that does not exist, between the layers
#   slow-apply   a 15 s local-exec between the layers: the window for SIGINT
CONFTEST = textwrap.dedent('''
    import json, os, signal
    import pytest
    from tests.component.tiny_stack import write_stack
    pytest_plugins = ["harness.plugin"]

    # Ctrl-C on a terminal reaches a pytest whose SIGINT raises KeyboardInterrupt. A job
    # started from a non-interactive shell with `&` inherits SIGINT *ignored*, and Python
    # then installs no handler: give this child the terminal's behaviour, or fault 2's
    # SIGINT is never delivered (seen when CI itself was started in the background).
    signal.signal(signal.SIGINT, signal.default_int_handler)

    ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
             "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

    @pytest.hookimpl(tryfirst=True)
    def pytest_stack_synthesize(stack_config, outdir):
        s = stack_config.environment_suffix
        name = lambda kind: {"Name": f"{kind}-dev-{s}"}
        r = {
            "aws_s3_bucket": {"b": {"bucket": f"faults-dev-{s}", "force_destroy": True,
                                    "tags": name("bucket")}},
            "aws_ssm_parameter": {"p": {"name": f"/faults/dev-{s}", "type": "String",
                                        "value": "v", "tags": name("param")}},
            "aws_iam_role": {"r": {"name": f"faults-role-dev-{s}", "assume_role_policy": ASSUME,
                                   "tags": name("role")}},
        }
        gate = ["aws_s3_bucket.b", "aws_ssm_parameter.p", "aws_iam_role.r"]
        mode = os.environ.get("FAULT_MODE", "")
        if mode == "apply-fails":
            r["aws_s3_object"] = {"bad": {"bucket": "no-such-bucket-" + s, "key": "k",
                                          "content": "x", "depends_on": gate}}
            gate = ["aws_s3_object.bad"]
        elif mode == "slow-apply":
            r["terraform_data"] = {"slow": {"provisioner": [{"local-exec": {
                "command": "touch ../slow-started; sleep 15"}}], "depends_on": gate}}
            gate = ["terraform_data.slow"]
        r["aws_cloudwatch_log_group"] = {"g": {"name": f"/faults/dev-{s}", "depends_on": gate,
                                               "tags": name("logs")}}
        r["aws_sns_topic"] = {"t": {"name": f"faults-dev-{s}", "depends_on": gate,
                                    "tags": name("topic")}}
        r["aws_security_group"] = {"sg": {"name": f"faults-sg-dev-{s}", "description": "faults",
                                          "depends_on": gate, "tags": name("sg")}}
        # Two attempts per call ("exceeded maximum number of attempts, N" is max_retries):
        # a fault reaches terraform (and so the harness) in seconds, not after the default
        # 25 with backoff, and a connection the SDK loses under load (a 200 whose body read
        # fails with "use of closed network connection", aws-sdk-go-v2 #2737) is retried.
        return write_stack(stack_config, outdir, r,
                           {"bucket_name": {"value": "${aws_s3_bucket.b.bucket}"}},
                           sandbox_services=("s3", "ssm", "sts", "iam", "logs", "sns", "ec2"),
                           max_retries=2)
''')

def make_project(tmp_path: Path, tests: str) -> Path:
    return child_pytest.make_project(tmp_path, CONFTEST, tests, "test_faulty.py")


def start_pytest(project: Path, *args: str, **env: str) -> subprocess.Popen:
    return subprocess.Popen(pytest_command("-rA", *args), cwd=project, env=pytest_env(**env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: float) -> str:
    """Every subprocess is bounded: past ``timeout`` it is killed and the test fails."""
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"pytest did not finish within {timeout}s:\n{out[-3000:]}")
    return out


def wait_for(condition, proc: subprocess.Popen, what: str, timeout: float = 360) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out = proc.communicate()[0]
            pytest.fail(f"{what} never happened (exit {proc.returncode}):\n{out[-3000:]}")
        time.sleep(0.2)


def events(wd: StackWorkdir) -> list[str]:
    return [e["event"] for e in wd.events()]


def remaining(endpoint: str, suffix: str) -> list[str]:
    """Everything in moto that carries the suffix: the sweeper's inventory (names, tags via
    the tagging API, describe calls), which is also the harness's post-destroy check."""
    check = leftovers(AwsClients("us-east-1", endpoint=endpoint), suffix)
    assert not check.unchecked, check.unchecked
    return [x.found.line() for x in check.leftovers]


def created_in_apply(wd: StackWorkdir) -> list[str]:
    log = next(wd.logs_dir.glob("*-apply.log")).read_text()
    return sorted(set(re.findall(r"^(\S+): Creation complete", log, re.M)))


@pytest.fixture
def moto_server(tmp_path):
    """A sandbox the test owns, so it can look inside after the harness is done."""
    endpoint, pid = sandbox.start(tmp_path / "moto.log")
    yield endpoint
    sandbox.stop(pid)


NEEDS_STACK = '''
    import pytest
    pytestmark = pytest.mark.integration

    def test_needs_stack(stack):
        """the stack is there"""
        stack.clients.s3.head_bucket(Bucket=stack.output("bucket_name"))
'''


def test_fault1_resource_fails_mid_apply_partial_stack_destroyed(tmp_path, moto_server):
    """Layer 1 is created, then a resource fails: the session fails with the error, and
    the destroy removes the partial stack; layer 2 was never created; nothing remains."""
    project = make_project(tmp_path, NEEDS_STACK)
    suffix = new_suffix("fa")
    out = finish(start_pytest(project, "--sandbox-endpoint", moto_server, "--stack-suffix", suffix,
                              FAULT_MODE="apply-fails"), timeout=480)
    wd = workdir(project, suffix)
    assert "NoSuchBucket" in out and " 1 error" in out, out[-3000:]
    assert events(wd) == ["deploy-start", "deploy-failed", "destroy-start", "destroy-done"], out[-3000:]
    assert created_in_apply(wd) == sorted(LAYER1)  # really half way
    assert wd.state_file.is_file()  # kept: the record of what existed
    failed = [e for e in wd.events() if e["event"] == "deploy-failed"][0]
    assert "apply failed" in failed["error"]
    assert remaining(moto_server, suffix) == []


SLOW_APPLY_TESTS = NEEDS_STACK


def test_fault2_sigint_during_apply_destroys_then_exits_nonzero(tmp_path, moto_server):
    """Ctrl-C (SIGINT to pytest) while terraform is applying: terraform is stopped cleanly
    (state saved), what it made is destroyed, and only then pytest exits, non-zero."""
    project = make_project(tmp_path, SLOW_APPLY_TESTS)
    suffix = new_suffix("fi")
    wd = workdir(project, suffix)
    proc = start_pytest(project, "--sandbox-endpoint", moto_server, "--stack-suffix", suffix,
                        FAULT_MODE="slow-apply")
    # The local-exec touches this file once layer 1 is done and apply is mid-way.
    wait_for(lambda: (wd.path / "slow-started").exists(), proc, "the slow apply step")
    proc.send_signal(signal.SIGINT)
    out = finish(proc, timeout=480)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:]
    assert events(wd) == ["deploy-start", "deploy-failed", "destroy-start", "destroy-done"], out[-3000:]
    apply_log = next(wd.logs_dir.glob("*-apply.log")).read_text()
    assert "interrupted: sent SIGINT" in apply_log
    assert set(LAYER1) <= set(created_in_apply(wd)) and not set(LAYER2) & set(created_in_apply(wd))
    assert remaining(moto_server, suffix) == []


SIGTERM_TESTS = '''
    import time
    from pathlib import Path
    import pytest
    pytestmark = pytest.mark.integration

    def test_long(stack):
        """waits to be terminated"""
        Path("ready").write_text(stack.suffix)
        time.sleep(300)
'''


def test_fault3_sigterm_during_tests_destroys(tmp_path, moto_server):
    """SIGTERM while a test runs (a CI job timeout): the session ends in order, the whole
    stack is destroyed, pytest exits as interrupted."""
    project = make_project(tmp_path, SIGTERM_TESTS)
    suffix = new_suffix("ft")
    proc = start_pytest(project, "--sandbox-endpoint", moto_server, "--stack-suffix", suffix)
    wait_for(lambda: (project / "ready").exists(), proc, "the test start")
    assert len(remaining(moto_server, suffix)) >= 6  # the stack is really up
    proc.send_signal(signal.SIGTERM)
    out = finish(proc, timeout=480)
    wd = workdir(project, suffix)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out[-3000:]
    assert events(wd) == ["deploy-start", "deploy-done", "destroy-start", "destroy-done"], out[-3000:]
    assert remaining(moto_server, suffix) == []


XDIST_CRASH_TESTS = '''
    import json, os, time
    from pathlib import Path
    import pytest
    pytestmark = pytest.mark.integration

    def _end(name):
        Path("ends").mkdir(exist_ok=True)
        Path(f"ends/{name}.json").write_text(json.dumps({"pid": os.getpid(), "at": time.time()}))

    def test_a_crash(stack):
        """the worker dies hard, mid-session"""
        Path("crashed").write_text(str(os.getpid()))
        os._exit(3)

    @pytest.mark.parametrize("n", range(5))
    def test_b_others(stack, n):
        """the others keep using the stack"""
        time.sleep(1.5)
        stack.clients.s3.head_bucket(Bucket=stack.output("bucket_name"))
        _end(n)
'''


def test_fault4_xdist_worker_crash_still_one_destroy_after_the_others(tmp_path, moto_server):
    """Under -n 2 one worker dies with os._exit (no teardown of its own): the others finish
    their tests, then the controller destroys exactly once; nothing remains."""
    project = make_project(tmp_path, XDIST_CRASH_TESTS)
    suffix = new_suffix("fx")
    proc = start_pytest(project, "-n", "2", "--sandbox-endpoint", moto_server,
                        "--stack-suffix", suffix)
    out = finish(proc, timeout=480)
    wd = workdir(project, suffix)
    assert proc.returncode == 1, out[-3000:]
    assert re.search(r"worker '?gw\d'? crashed", out, re.I) or "crashed" in out, out[-3000:]
    assert "1 failed, 5 passed" in out, out[-3000:]
    names = events(wd)
    assert names.count("deploy-done") == 1 and names.count("destroy-start") == 1, names
    assert names.count("destroy-done") == 1 and names[-1] == "destroy-done", names
    ends = [json.loads(p.read_text()) for p in (project / "ends").glob("*.json")]
    destroy = [e for e in wd.events() if e["event"] == "destroy-start"][0]
    crashed_pid = int((project / "crashed").read_text())
    assert destroy["pid"] == proc.pid and destroy["pid"] != crashed_pid
    assert len(ends) == 5 and destroy["at"] > max(e["at"] for e in ends)
    assert remaining(moto_server, suffix) == []


ARM_TESTS = '''
    import os
    import requests
    import pytest
    pytestmark = pytest.mark.integration

    def test_arm_the_fault(stack):
        """the stack is up; from now on the sandbox misbehaves"""
        stack.clients.s3.head_bucket(Bucket=stack.output("bucket_name"))
        requests.get(stack.endpoint + "/__fault__/" + os.environ["FAULT"], timeout=10).raise_for_status()
'''


def test_fault5_transient_destroy_error_retried_with_backoff(tmp_path, moto_server):
    """The sandbox throttles every call when the destroy starts (a proxy in front of moto
    answers 'Throttling: Rate exceeded'); the harness classifies it as transient, backs
    off, and the second attempt (after the throttling stops) completes the destroy."""
    project = make_project(tmp_path, ARM_TESTS)
    suffix = new_suffix("fr")
    wd = workdir(project, suffix)
    with FaultProxy(moto_server) as proxy:
        proc = start_pytest(project, "--sandbox-endpoint", proxy.endpoint, "--stack-suffix", suffix,
                            FAULT="throttle")
        wait_for(lambda: wd.progress_file.is_file() and "attempt 1 hit a transient error"
                 in wd.progress_file.read_text(), proc, "the first destroy attempt failing")
        proxy.mode = "pass"  # the throttling passes during the backoff
        out = finish(proc, timeout=480)
        throttled = proxy.failed["throttle"]
    assert proc.returncode == 0, out[-3000:]
    assert throttled > 0
    destroy_logs = sorted(wd.logs_dir.glob("*-destroy.log"))
    assert len(destroy_logs) == 2, destroy_logs
    assert "Rate exceeded" in destroy_logs[0].read_text()
    assert "# exit 0" in destroy_logs[1].read_text()
    progress = wd.progress_file.read_text()
    assert re.search(r"attempt 1 hit a transient error .*retrying in [1-9]\d*s", progress, re.S), progress
    assert events(wd)[-2:] == ["destroy-start", "destroy-done"]
    assert remaining(moto_server, suffix) == []


def test_fault6_destroy_fails_for_good_then_destroy_stack_finishes_it(tmp_path, moto_server):
    """Every call is denied when the destroy starts: the session fails, prints the exact
    command that finishes the job, and keeps state, plan and logs. Once the denial is
    lifted, that very command (run as printed) destroys everything."""
    project = make_project(tmp_path, ARM_TESTS)
    suffix = new_suffix("fd")
    wd = workdir(project, suffix)
    with FaultProxy(moto_server) as proxy:
        proc = start_pytest(project, "--sandbox-endpoint", proxy.endpoint,
                            "--stack-suffix", suffix, FAULT="deny")
        out = finish(proc, timeout=480)
        assert proc.returncode == 1, out[-3000:]
        assert "DESTROY FAILED" in out and "AccessDenied" in out, out[-3000:]
        assert " 1 passed" in out and events(wd)[-1] == "destroy-failed"
        # Permanent: no retry. An attempt is repeated only when its log also holds a transient
        # error (under load the SDK can lose a connection besides the 403s), and the last
        # attempt, AccessDenied alone, ends the destroy before its bound of 3 attempts.
        attempts = sorted(wd.logs_dir.glob("*-destroy.log"))
        assert 1 <= len(attempts) < 3, attempts
        assert all(terraform.ends_transient(log) for log in attempts[:-1]), attempts
        last = attempts[-1].read_text()
        assert "AccessDenied" in last and not terraform.ends_transient(attempts[-1]), last[-2000:]
        assert status(wd) is Status.DESTROY_FAILED
        assert wd.state_file.is_file() and "aws_iam_role" in wd.state_file.read_text()
        assert list(wd.logs_dir.glob("*-apply.log"))
        assert len(remaining(moto_server, suffix)) >= 6  # really still there
        command = re.search(r"^\s*(pytest --destroy-stack .+)$", out, re.M).group(1)
        assert shlex.split(command)[:3] == ["pytest", "--destroy-stack", suffix]
        assert f"terraform -chdir={wd.tf_dir} destroy" in out
        assert f"python -m harness.sweep --suffix {suffix} --endpoint {proxy.endpoint}" in out

        proxy.mode = "pass"  # the permissions are fixed
        later = subprocess.run([sys.executable, "-m", *shlex.split(command)], cwd=project,
                               env=pytest_env(), capture_output=True, text=True, timeout=480)
    assert later.returncode == 0, later.stdout[-3000:] + later.stderr[-3000:]
    assert f"destroyed suffix {suffix}" in later.stdout
    assert status(wd) is Status.DESTROYED
    assert remaining(moto_server, suffix) == []


def test_fault7_sigterm_to_the_process_group_stops_the_workers_terraform(tmp_path, moto_server):
    """`timeout` in bin/main-job signals the whole process group (controller and xdist
    workers) while a worker's terraform is applying: the worker stops its terraform (SIGINT,
    state saved) and ends, the deployment is recorded as failed, the controller destroys
    once, and nothing remains."""
    project = make_project(tmp_path, SLOW_APPLY_TESTS)
    suffix = new_suffix("fw")
    wd = workdir(project, suffix)
    proc = subprocess.Popen(pytest_command("-rA", "-n", "2", "--sandbox-endpoint", moto_server,
                                           "--stack-suffix", suffix),
                            cwd=project, env=pytest_env(FAULT_MODE="slow-apply"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    wait_for(lambda: (wd.path / "slow-started").exists(), proc, "the slow apply step")
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    out = finish(proc, timeout=480)
    assert proc.returncode != 0, out[-3000:]
    names = events(wd)
    assert names == ["deploy-start", "deploy-failed", "destroy-start", "destroy-done"], \
        (names, out[-3000:])
    deploy_start, destroy_start = (e for e in wd.events()
                                   if e["event"] in ("deploy-start", "destroy-start"))
    assert deploy_start["pid"] != proc.pid and destroy_start["pid"] == proc.pid
    apply_log = next(wd.logs_dir.glob("*-apply.log")).read_text()
    assert "interrupted: sent SIGINT" in apply_log, apply_log[-2000:]
    assert not set(LAYER2) & set(created_in_apply(wd)), "terraform kept applying"
    assert remaining(moto_server, suffix) == []
    assert time.monotonic() - started < 300
