"""The nightly's ``--stack-target aws`` path rehearsed against a moto server standing in for
the account: the whole platform, production-shaped (domain mode, the stand-in's account as the
only allowed one), reached only through the SDKs' standard endpoint setting
(``AWS_ENDPOINT_URL``); no aws-path code knows it is not AWS.

One deployment walks the path a nightly takes, each step as another machine would:

- deploy with remote state in the stand-in's S3 and ``--keep-stack``;
- the idempotency plan after the apply. On ``aws`` every change fails the run, and against
  moto the plan cannot be empty: moto loses attributes the stack sets (the fidelity drifts
  the sandbox waives in harness/drift_allowlist.yaml). So the run must fail there, show the
  diff, and list nothing the allow-list does not explain: a drift of the stack's own, or one
  the sandbox has never seen, fails this test;
- the run tags read back through the tagging API, and what the Auto Scaling group propagates;
- ``--list-stacks`` from an empty folder;
- a second run SIGKILLed mid-apply (runner and terraform), then the expiry sweep: a dry run
  names it and not the kept stack, ``--delete`` destroys it from its remote state and sweeps
  what the state missed;
- ``--destroy-stack`` from a second, empty workdir, with the verified destroy (the inventory
  finds nothing carrying the suffix).

Takes 10-15 minutes on a 2-core machine (two synths, one whole apply, the provider's waits).
The measured step times go to the test's output (-rP) and docs/nightly.md.
"""
from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.drift import Change
from harness.drift_allowlist import judge, load_allowlist
from harness.workdir import StackWorkdir
from tests.component import aws_standin, killed_run
from tests.component.child_pytest import PROJECT_ROOT, new_suffix, pytest_command, pytest_env

pytestmark = pytest.mark.component

# One integration test is enough: the deploy fails before any test runs (see above), and the
# sandbox suite runs them all.
SELECTED = "tests/integration/test_tags.py::test_every_taggable_resource_has_the_three_tags"
DOMAIN = "pay.example.com"


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    yield from aws_standin.start(tmp_path_factory.mktemp("standin") / "moto.log")


def child(standin: aws_standin.StandIn, tmp_path: Path, *args: str, timeout: float = 1800
          ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command("-rA", f"--evidence-dir={tmp_path / 'evidence'}", *args),
                          cwd=PROJECT_ROOT, env=pytest_env(**standin.env()), capture_output=True,
                          text=True, timeout=timeout)


def seconds(root: Path, suffix: str, step: str) -> float:
    """The step's time as the run recorded it (every attempt summed)."""
    return sum(t["seconds"] for t in StackWorkdir(root, suffix).timings() if t["step"] == step)


def listed_changes(output: str) -> list[Change]:
    """Each change the output lists, once (the error is printed per test and again in the
    session's summary)."""
    changes: dict[Change, None] = {}
    for line in output.splitlines():
        change = Change.parse(line.removeprefix("E"))  # pytest marks an error's lines "E"
        if change is not None:
            changes[change] = None
    return list(changes)


def test_the_nightly_against_a_standin_account(tmp_path: Path, standin):
    timings: dict[str, float] = {}
    zone = aws_standin.route53_style_zone(standin.client("route53"), DOMAIN)
    config = tmp_path / "nightly.json"
    config.write_text(json.dumps({
        "environment": "ci", "tls": {"domain_name": DOMAIN, "hosted_zone_id": zone},
        "allowed_account_ids": [aws_standin.ACCOUNT]}))
    bucket = standin.bucket("ci-state-" + new_suffix("p"))
    state = f"s3://{bucket}/ci"
    suffix, killed = new_suffix("a"), new_suffix("k")
    nightly = ("-m", "integration", "--stack-target", "aws", "--stack-state", state,
               f"--stack-config={config}")
    s3 = standin.client("s3")

    def record(of: str, name: str = "deployment.json") -> dict:
        return json.loads(s3.get_object(Bucket=bucket, Key=f"ci/{of}/{name}")["Body"].read())

    # ---- deploy, then the idempotency plan
    runner = tmp_path / "runner"
    deployed = child(standin, tmp_path, *nightly, SELECTED, "--stack-suffix", suffix,
                     f"--stack-workdir={runner}", "--keep-stack")
    out = deployed.stdout + deployed.stderr
    timings["apply"] = seconds(runner, suffix, "apply")
    timings["idempotency plan"] = (seconds(runner, suffix, "idempotency-plan")
                                    + seconds(runner, suffix, "show"))
    assert "apply: done" in out, out[-6000:]
    assert deployed.returncode == 1, out[-6000:]
    assert "not idempotent" in out and "on aws every change fails" in out, out[-6000:]
    changes = listed_changes(out)
    counted = re.search(r"would change (\d+) attribute", out)
    assert counted and changes and len(changes) == int(counted[1]), out[-6000:]
    verdict = judge(changes, load_allowlist())
    assert not verdict.unexpected, (
        "the aws path's idempotency plan found changes moto's known drifts do not explain:\n"
        + "\n".join(c.line() for c in verdict.unexpected))
    assert "0 passed" not in out and "1 error" in out, out[-3000:]
    assert (tmp_path / "evidence" / "report.json").is_file(), "no evidence after a failed deploy"

    # ---- what the kept stack carries: remote state, record, run tags
    kept = record(suffix)
    origin = record(suffix, "run.json")
    assert kept["status"] == "deploy-failed" and kept["target"] == "aws", kept
    assert s3.head_object(Bucket=bucket, Key=f"ci/{suffix}/terraform.tfstate")[
        "ServerSideEncryption"] == "AES256"
    # (tf/.terraform/terraform.tfstate is terraform's note of the backend, not state)
    assert not (runner / suffix / "tf" / "terraform.tfstate").exists(), "state on the runner"
    tagged = standin.tagged("StackSuffix", suffix)
    assert len(tagged) >= 30, f"only {len(tagged)} resources carry StackSuffix={suffix}"
    for arn, tags in tagged.items():
        assert tags.get("StackRun") == kept["run_id"], arn
        assert tags.get("ExpiresAt") == origin["expires_at"], arn
    groups = standin.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    (group,) = [g for g in groups if suffix in g["AutoScalingGroupName"]]
    propagated = {t["Key"]: t for t in group["Tags"]}
    for key in ("StackSuffix", "StackRun", "ExpiresAt"):
        assert propagated[key]["PropagateAtLaunch"] is True, propagated
    assert propagated["ExpiresAt"]["Value"] == origin["expires_at"]

    listed = child(standin, tmp_path, "--list-stacks", "--stack-state", state, timeout=300)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    (line,) = [x for x in listed.stdout.splitlines() if x.startswith(suffix)]
    assert "deploy-failed" in line and origin["expires_at"] in line, line

    # ---- a runner killed mid-apply, then the expiry sweep
    dying = tmp_path / "killed"
    proc = subprocess.Popen(
        pytest_command("-rA", f"--evidence-dir={tmp_path / 'evidence-killed'}", *nightly,
                       SELECTED, "--stack-suffix", killed, "--stack-ttl", "1h",
                       f"--stack-workdir={dying}"),
        cwd=PROJECT_ROOT, env=pytest_env(**standin.env()), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, start_new_session=True)
    progress = dying / killed / "progress.log"
    killed_run.kill_when(proc, dying, lambda: progress.is_file()
                         and "apply: started" in progress.read_text()
                         and len(standin.tagged("StackSuffix", killed)) >= 10, timeout=900)
    assert standin.tagged("StackSuffix", killed), "the killed run created nothing"
    lock = f"ci/{killed}/terraform.tfstate.tflock"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=lock).get("KeyCount") == 1, \
        "killed mid-apply, the run's state lock should still be held"

    sweep = [sys.executable, "-m", "harness.sweep", "--expired", "--target", "aws",
             "--stack-config", str(config), "--stack-state", state, "--as-of", _in_hours(2)]
    dry = subprocess.run(sweep, cwd=tmp_path, env=pytest_env(**standin.env()),
                         capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert killed in dry.stdout and suffix not in dry.stdout, dry.stdout
    started = time.monotonic()
    swept = subprocess.run([*sweep, "--delete"], cwd=tmp_path, env=pytest_env(**standin.env()),
                           capture_output=True, text=True, timeout=1800)
    timings["expiry sweep of the killed run"] = time.monotonic() - started
    assert swept.returncode == 0, swept.stdout[-6000:] + swept.stderr[-4000:]
    assert "stale state lock" in swept.stdout and "terraform destroy from" in swept.stdout, \
        swept.stdout
    assert s3.list_objects_v2(Bucket=bucket, Prefix=lock).get("KeyCount") == 0
    assert standin.leftovers(killed) == []
    assert record(killed)["status"] == "destroyed"
    assert len(standin.tagged("StackSuffix", suffix)) == len(tagged), "the live stack was touched"

    # ---- destroyed from another machine: an empty workdir, only the state location
    elsewhere = tmp_path / "elsewhere"
    destroyed = child(standin, tmp_path, "--destroy-stack", suffix, "--stack-target", "aws",
                      "--stack-state", state, f"--stack-workdir={elsewhere}")
    timings["destroy"] = seconds(elsewhere, suffix, "destroy")
    assert destroyed.returncode == 0, destroyed.stdout[-6000:] + destroyed.stderr[-4000:]
    assert "nothing carrying the suffix remains" in destroyed.stdout + destroyed.stderr
    assert standin.leftovers(suffix) == []
    assert record(suffix)["status"] == "destroyed"

    print("rehearsal timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
          + f"; {len(tagged)} tagged resources; {len(changes)} moto drift(s) refused, "
          f"{len({(c.resource_type, c.attribute) for c in changes})} distinct")


def _in_hours(hours: float) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
