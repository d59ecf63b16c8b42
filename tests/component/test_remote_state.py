"""--stack-state on the aws path, against a moto server standing in for the account (only
AWS_ENDPOINT_URL points the SDKs at it): state and record in its S3, run tags read back
through the tagging API, --list-stacks, and --destroy-stack from a second, empty workdir.

A tiny Terraform JSON (an S3 bucket and an SSM parameter) stands in for the platform so the
whole path runs in about a minute; the platform's own rehearsal is test_aws_rehearsal.py.
"""
from __future__ import annotations

import datetime
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.component import aws_standin, child_pytest, killed_run
from tests.component.child_pytest import new_suffix, pytest_command, pytest_env

pytestmark = pytest.mark.component

# No endpoints in the provider: on the aws path the SDK's standard settings decide.
AWS_TINY_CONFTEST = textwrap.dedent('''
    import json
    import pytest
    pytest_plugins = ["harness.plugin"]

    @pytest.hookimpl(tryfirst=True)
    def pytest_stack_synthesize(stack_config, outdir):
        s = stack_config.environment_suffix
        doc = {
            "terraform": {"backend": {"local": {"path": "terraform.tfstate"}},
                          "required_providers": {"aws": {"source": "hashicorp/aws",
                                                         "version": "5.100.0"}}},
            "provider": {"aws": [{"region": stack_config.region,
                                  "allowed_account_ids": list(stack_config.allowed_account_ids),
                                  "default_tags": [{"tags": stack_config.tags}]}]},
            "resource": {
                "aws_s3_bucket": {"b": {"bucket": f"remote-{s}"}},
                "aws_ssm_parameter": {"p": {"name": f"/remote/{s}", "type": "String",
                                            "value": "v"}}},
            "output": {"bucket_name": {"value": "${aws_s3_bucket.b.bucket}"}},
        }
        path = outdir / "cdk.tf.json"
        path.write_text(json.dumps(doc))
        return path
''')

TESTS = '''
import pytest

@pytest.mark.integration
def test_bucket(stack):
    assert stack.output_values["bucket_name"].startswith("remote-")
'''


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    yield from aws_standin.start(tmp_path_factory.mktemp("standin") / "moto.log")


def project(parent: Path) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    return child_pytest.make_project(parent, AWS_TINY_CONFTEST, TESTS, "test_tiny.py")


def run(project: Path, standin: aws_standin.StandIn, *args: str, timeout: float = 600):
    return subprocess.run(pytest_command("-rA", *args), cwd=project,
                          env=pytest_env(**standin.env()), capture_output=True, text=True,
                          timeout=timeout)


def test_state_and_record_outlive_the_runner(tmp_path, standin):
    bucket = standin.bucket("ci-state-" + new_suffix("b"))
    state = f"s3://{bucket}/ci"
    suffix = new_suffix("r")
    runner = project(tmp_path / "runner")
    config = aws_standin.production_config(tmp_path / "prod.json")

    deployed = run(runner, standin, "-m", "integration", "--stack-target", "aws",
                   "--stack-state", state, f"--stack-config={config}", "--stack-suffix", suffix,
                   "--stack-ttl", "2h", "--keep-stack")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr

    s3 = standin.client("s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="ci/")["Contents"]}
    assert {f"ci/{suffix}/terraform.tfstate", f"ci/{suffix}/deployment.json",
            f"ci/{suffix}/tf.tar.gz", f"ci/{suffix}/run.json"} <= keys
    assert not (runner / ".stack-work" / suffix / "tf" / "terraform.tfstate").exists()
    head = s3.head_object(Bucket=bucket, Key=f"ci/{suffix}/terraform.tfstate")
    assert head.get("ServerSideEncryption") == "AES256", head
    record = json.loads(s3.get_object(Bucket=bucket, Key=f"ci/{suffix}/deployment.json")["Body"]
                        .read())
    origin = json.loads(s3.get_object(Bucket=bucket, Key=f"ci/{suffix}/run.json")["Body"].read())
    assert record["status"] == "deployed" and origin["expires_at"].endswith("Z")

    tagged = standin.tagged("StackSuffix", suffix)
    assert any(":s3:::remote-" in arn for arn in tagged), tagged
    assert any(":parameter/remote/" in arn for arn in tagged), tagged
    for arn, tags in tagged.items():
        assert tags["StackRun"] == record["run_id"], arn
        assert tags["ExpiresAt"] == origin["expires_at"], arn

    elsewhere = project(tmp_path / "elsewhere")
    listed = run(elsewhere, standin, "--list-stacks", "--stack-state", state)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    (line,) = [x for x in listed.stdout.splitlines() if x.startswith(suffix)]
    assert "deployed" in line and origin["expires_at"] in line

    destroyed = run(elsewhere, standin, "--destroy-stack", suffix, "--stack-target", "aws",
                    "--stack-state", state)
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert standin.tagged("StackSuffix", suffix) == {}
    record = json.loads(s3.get_object(Bucket=bucket, Key=f"ci/{suffix}/deployment.json")["Body"]
                        .read())
    assert record["status"] == "destroyed"


@pytest.mark.parametrize("args, message", [
    (("--stack-state", "gs://bucket/p", "--stack-target", "aws"), "only s3://bucket/prefix"),
    (("--stack-state", "s3://bucket/p"), "only with --stack-target aws"),
    (("--stack-ttl", "80h"), "between 1h and 72h"),
    (("--stack-ttl", "soon"), "unit m, h or d"),
    (("--list-stacks",), "--list-stacks needs --stack-state"),
])
def test_bad_options_are_usage_errors(tmp_path, standin, args, message):
    proc = run(project(tmp_path), standin, *args, timeout=120)
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert message in proc.stderr


# The bucket's lifecycle rule keeps the apply busy ~1 minute (the provider waits for S3 to
# report the rule everywhere): time to kill the run mid-apply.
SLOW_CONFTEST = AWS_TINY_CONFTEST.replace(
    '''"aws_ssm_parameter": {"p":''',
    '''"aws_s3_bucket_lifecycle_configuration": {"l": {
                    "bucket": "${aws_s3_bucket.b.id}",
                    "rule": [{"id": "expire", "status": "Enabled", "filter": [{}],
                              "expiration": [{"days": 30}]}]}},
                "aws_ssm_parameter": {"p":''')


def test_expiry_sweep_destroys_a_run_killed_mid_apply_and_spares_a_live_one(tmp_path, standin):
    """Past ExpiresAt: terraform destroy from the remote state (its stale lock released), then
    the sweeper; a stack whose ExpiresAt is still ahead is not touched."""
    bucket = standin.bucket("ci-state-" + new_suffix("e"))
    state = f"s3://{bucket}/ci"
    config = aws_standin.production_config(tmp_path / "prod.json")
    live, killed = new_suffix("l"), new_suffix("k")
    common = ("-m", "integration", "--stack-target", "aws", "--stack-state", state,
              f"--stack-config={config}")

    kept = run(project(tmp_path / "live"), standin, *common, "--stack-suffix", live,
               "--stack-ttl", "3h", "--keep-stack")
    assert kept.returncode == 0, kept.stdout + kept.stderr

    slow = tmp_path / "killed"
    slow.mkdir()
    runner = child_pytest.make_project(slow, SLOW_CONFTEST, TESTS, "test_tiny.py")
    proc = subprocess.Popen(pytest_command("-rA", *common, "--stack-suffix", killed,
                                           "--stack-ttl", "1h"),
                            cwd=runner, env=pytest_env(**standin.env()), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    progress = runner / ".stack-work" / killed / "progress.log"
    killed_run.kill_when(proc, runner, lambda: progress.is_file()
                         and "apply: started" in progress.read_text()
                         and bool(standin.tagged("StackSuffix", killed)))
    assert standin.tagged("StackSuffix", killed), "the killed run created nothing"
    s3 = standin.client("s3")
    lock = f"ci/{killed}/terraform.tfstate.tflock"
    assert s3.list_objects_v2(Bucket=bucket, Prefix=lock).get("KeyCount") == 1, \
        "killed mid-apply, the run's state lock should still be held"

    sweep_env = pytest_env(**standin.env())
    as_of = ["--as-of", _in_hours(2)]
    base = [sys.executable, "-m", "harness.sweep", "--expired", "--target", "aws",
            "--stack-config", str(config), "--stack-state", state, *as_of]
    dry = subprocess.run(base, cwd=tmp_path, env=sweep_env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert killed in dry.stdout and live not in dry.stdout, dry.stdout
    assert "dry run" in dry.stdout and standin.tagged("StackSuffix", killed)

    swept = subprocess.run(base + ["--delete"], cwd=tmp_path, env=sweep_env, capture_output=True, text=True,
                           timeout=900)
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert standin.tagged("StackSuffix", killed) == {}
    assert standin.tagged("StackSuffix", live), "the live stack was touched"
    assert "stale state lock" in swept.stdout and "terraform destroy from" in swept.stdout
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=f"ci/{killed}/")
            .get("Contents", [])}
    assert lock not in keys
    record = json.loads(s3.get_object(Bucket=bucket, Key=f"ci/{killed}/deployment.json")["Body"]
                        .read())
    assert record["status"] == "destroyed"

    cleanup = run(project(tmp_path / "cleanup"), standin, "--destroy-stack", live,
                  "--stack-target", "aws", "--stack-state", state)
    assert cleanup.returncode == 0, cleanup.stdout + cleanup.stderr


def _in_hours(hours: float) -> str:
    return (datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
