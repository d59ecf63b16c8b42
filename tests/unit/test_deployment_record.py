"""The deployment record (harness/record.py): written atomically, validated on every read, and
records written by earlier versions of the harness still read."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.record import Deployment, RecordError, Status, Target, read_record, write_record

pytestmark = pytest.mark.unit

# Exactly what the harness before the typed record wrote (its update_deployment calls for a
# sandbox run whose moto server died, replayed): sorted keys, every step merged in.
OLD_SANDBOX_RECORD = """{
  "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/2c8f1a4e-1111-2222-3333-444455556666",
  "config": {
    "environment": "dev",
    "environment_suffix": "told1234",
    "sandbox": {
      "endpoint": "http://127.0.0.1:40123"
    }
  },
  "config_file": "",
  "endpoint": "http://127.0.0.1:40123",
  "error": "",
  "moto_pid": 4242,
  "region": "us-east-1",
  "resources": [
    "aws_s3_bucket.b",
    "aws_ssm_parameter.p"
  ],
  "run_id": "5f0c",
  "sandbox_gone": true,
  "started_at": "2026-11-29T10:00:00Z",
  "started_moto": true,
  "status": "destroyed",
  "suffix": "told1234",
  "target": "sandbox",
  "updated_at": "2026-11-29T19:31:33Z",
  "workdir": "/tmp/w/told1234"
}"""
# An aws deploy that failed before its config was recorded: no config, no sandbox_gone key.
OLD_AWS_RECORD = {
    "certificate_arn": None, "config_file": "/ci/nightly.json", "endpoint": None,
    "error": "terraform apply failed (exit 1)", "moto_pid": None, "region": "us-east-1",
    "resources": ["aws_kms_key.logs"], "run_id": "9a1b", "started_at": "2026-11-29T10:00:00Z",
    "started_moto": False, "status": "deploy-failed", "suffix": "nightly1", "target": "aws",
    "updated_at": "2026-11-29T10:05:00Z", "workdir": "/ci/.stack-work/nightly1"}


def _file(tmp_path: Path, text: str, suffix: str = "tsfx1234") -> Path:
    path = tmp_path / suffix / "deployment.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _started(tmp_path: Path) -> Deployment:
    return Deployment.started(suffix="tsfx1234", target=Target.SANDBOX, region="us-east-1",
                              run_id="run-1", config_file="", workdir=str(tmp_path))


def test_a_record_reads_back_as_written_through_every_step(tmp_path):
    path = tmp_path / "deployment.json"
    record = write_record(path, _started(tmp_path))
    assert read_record(path) == record and record.status is Status.DEPLOYING
    record = write_record(path, record.with_started_sandbox("http://127.0.0.1:45678", 4321)
                          .with_certificate("arn:aws:acm:us-east-1:123456789012:certificate/x")
                          .with_config({"environment_suffix": "tsfx1234", "capacity": {"min_size": 2}})
                          .deployed(["aws_s3_bucket.b"]))
    back = read_record(path)
    assert back == record
    assert (back.status, back.endpoint, back.moto_pid, back.started_moto, back.resources) == (
        Status.DEPLOYED, "http://127.0.0.1:45678", 4321, True, ("aws_s3_bucket.b",))
    assert back.config == {"environment_suffix": "tsfx1234", "capacity": {"min_size": 2}}
    assert back.is_sandbox and back.of_run("run-1") and not back.of_run("run-2")
    assert back.updated_at and back.started_at
    assert not list(tmp_path.glob("*.tmp"))  # written aside, then renamed over the record


def test_the_keys_on_disk_are_the_ones_earlier_versions_wrote(tmp_path):
    path = tmp_path / "deployment.json"
    write_record(path, _started(tmp_path).destroyed(sandbox_gone=True))
    assert set(json.loads(path.read_text())) == set(json.loads(OLD_SANDBOX_RECORD))


def test_records_written_by_the_previous_version_still_read(tmp_path):
    old = read_record(_file(tmp_path, OLD_SANDBOX_RECORD, "told1234"))
    assert old is not None
    assert (old.target, old.status, old.moto_pid, old.started_moto, old.sandbox_gone) == (
        Target.SANDBOX, Status.DESTROYED, 4242, True, True)
    assert old.resources == ("aws_s3_bucket.b", "aws_ssm_parameter.p")
    aws = read_record(_file(tmp_path, json.dumps(OLD_AWS_RECORD), "nightly1"))
    assert aws is not None
    assert (aws.target, aws.status, aws.config, aws.sandbox_gone, aws.is_sandbox) == (
        Target.AWS, Status.DEPLOY_FAILED, None, False, False)


def test_no_file_is_nothing_recorded(tmp_path):
    assert read_record(tmp_path / "tsfx1234" / "deployment.json") is None


@pytest.mark.parametrize("text, problem", [
    ("{nope", "Invalid JSON"),
    ("", "Invalid JSON"),
    ("[]", "Input should be an object"),
    (json.dumps({**OLD_AWS_RECORD, "moto_pid": "123"}), "moto_pid: Input should be a valid integer"),
    (json.dumps({**OLD_AWS_RECORD, "started_moto": 1}), "started_moto: Input should be a valid boolean"),
    (json.dumps({**OLD_AWS_RECORD, "status": "gone"}), "status: Input should be 'deploying'"),
    (json.dumps({**OLD_AWS_RECORD, "target": "azure"}), "target: Input should be 'sandbox' or 'aws'"),
    (json.dumps({k: v for k, v in OLD_AWS_RECORD.items() if k != "status"}), "status: Field required"),
    (json.dumps({**OLD_AWS_RECORD, "statsu": "destroyed"}), "statsu: Extra inputs are not permitted"),
], ids=["corrupt", "empty", "list", "pid-as-text", "flag-as-number", "unknown-status",
        "unknown-target", "no-status", "unknown-key"])
def test_a_damaged_record_is_an_error_naming_the_file_the_problem_and_what_to_do(
        tmp_path, text, problem):
    """Never "nothing recorded" and never "destroyed": the run may have left resources."""
    path = _file(tmp_path, text)
    with pytest.raises(RecordError) as caught:
        read_record(path)
    message = str(caught.value)
    assert str(path) in message and problem in message
    assert "python -m harness.sweep --suffix tsfx1234" in message


def test_a_step_cannot_make_a_record_that_a_read_would_refuse(tmp_path):
    with pytest.raises(ValueError, match="resources"):
        _started(tmp_path).deployed([None])  # type: ignore[list-item]


def test_only_deployed_and_destroyed_are_settled():
    assert {s for s in Status if s.settled} == {Status.DEPLOYED, Status.DESTROYED}
    assert [s.value for s in Status] == ["deploying", "deployed", "deploy-failed", "destroying",
                                         "destroy-failed", "destroyed"]
