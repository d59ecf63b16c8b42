"""The deployed upgrade (``--stack-upgrade-from REF``), end to end: real pytest sessions that
deploy a small base stack (an S3 bucket, which holds data, and a KMS key) with real terraform
into a real moto server, then plan a head stack on the same state.

The base and head stacks come from the child project's conftest through the harness's own
hooks (pytest_stack_synthesize_base, pytest_stack_synthesize): the machinery between them
(base apply, plan, show -json, the verdict, apply, destroy) is the one a platform run uses.
"""
from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from harness import sandbox
from harness.record import Status
from harness.upgrade import read_plan_record
from tests.component import child_pytest
from tests.component.child_pytest import new_suffix, pytest_command, pytest_env, status, workdir

pytestmark = pytest.mark.component

# The head is chosen by UPGRADE_HEAD: "tag" adds a tag to the bucket (in place), "rename"
# renames the bucket (S3 cannot rename: terraform must replace it, forced by "bucket").
UPGRADE_CONFTEST = textwrap.dedent('''
    import os
    import pytest
    from tests.component.tiny_stack import write_stack
    pytest_plugins = ["harness.plugin"]

    def write(stack_config, outdir, head):
        s = stack_config.environment_suffix
        bucket = {"bucket": f"upgrade-{s}"}
        if head == "tag":
            bucket["tags"] = {"release": "head"}
        if head == "rename":
            bucket["bucket"] = f"upgrade-renamed-{s}"
        resources = {
            "aws_s3_bucket": {"b": bucket},
            "aws_kms_key": {"k": {"description": f"upgrade-{s}", "deletion_window_in_days": 7}},
        }
        return write_stack(stack_config, outdir, resources,
                           {"bucket_name": {"value": "${aws_s3_bucket.b.bucket}"}},
                           sandbox_services=("s3", "kms", "sts"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_stack_synthesize_base(stack_config, outdir, base):
        return write(stack_config, outdir, None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_stack_synthesize(stack_config, outdir):
        return write(stack_config, outdir, os.environ["UPGRADE_HEAD"])
''')

TESTS = '''
    import pytest
    pytestmark = pytest.mark.integration

    def test_the_upgraded_bucket(stack):
        """the bucket kept its name and carries the head's tag"""
        name = stack.output("bucket_name")
        assert name == f"upgrade-{stack.suffix}"
        tags = stack.clients.s3.get_bucket_tagging(Bucket=name)["TagSet"]
        assert {"Key": "release", "Value": "head"} in tags
'''


def make_project(tmp_path: Path) -> Path:
    return child_pytest.make_project(tmp_path, UPGRADE_CONFTEST, TESTS, "test_upgraded.py")


def run_upgrade(project: Path, suffix: str, head: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command("-rA", "--stack-suffix", suffix, "--stack-upgrade-from",
                                         "HEAD", *args),
                          cwd=project, env=pytest_env(UPGRADE_HEAD=head), capture_output=True,
                          text=True, timeout=600)


def logs_named(project: Path, suffix: str, step: str) -> list[str]:
    return [p.read_text() for p in sorted(workdir(project, suffix).logs_dir.glob(f"*-{step}.log"))]


def assert_destroyed_without_leftovers(project: Path, suffix: str) -> None:
    wd = workdir(project, suffix)
    assert status(wd) is Status.DESTROYED
    done = [e for e in wd.events() if e["event"] == "destroy-done"]
    assert len(done) == 1 and done[0]["leftovers"] == [], done
    record = wd.deployment()
    assert record is not None and not sandbox.alive(record.moto_pid)


def test_a_harmless_change_upgrades_in_place_and_the_tests_run_on_the_upgraded_stack(tmp_path):
    """Base applied, then the head's plan (a new tag on the bucket) updates in place: the
    verdict is "kept", the saved plan is applied, the test sees the tag on the same bucket,
    and the session destroys everything."""
    project = make_project(tmp_path)
    suffix = new_suffix("ug")
    proc = run_upgrade(project, suffix, "tag")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "1 passed" in proc.stdout
    assert "upgrade: base HEAD" in out and "applied, 2 resources" in out
    assert "upgrade: plan keeps every stateful resource" in out

    record = read_plan_record(workdir(project, suffix))
    assert record is not None
    assert record.stateful_verdict == "kept" and record.stateful_changes == []
    assert record.by_type == {"create": {}, "update": {"aws_s3_bucket": 1}, "replace": {},
                              "delete": {}}
    assert record.base_ref == "HEAD" and len(record.base_commit) == 40
    # The base's terraform calls log under the command's name, like the head's, before them.
    base_apply, head_apply = logs_named(project, suffix, "apply")
    assert base_apply.count("Creation complete") == 2
    assert "Modifications complete" in head_apply and "Destruction complete" not in head_apply
    steps = [t["step"] for t in workdir(project, suffix).timings()]
    assert steps.index("base-apply") < steps.index("synth") < steps.index("plan-show") \
        < steps.index("apply") < steps.index("destroy")
    assert_destroyed_without_leftovers(project, suffix)


def test_a_forced_replacement_of_a_bucket_fails_the_deploy_and_everything_is_destroyed(tmp_path):
    """A renamed bucket can only be replaced: the plan is refused naming the address, the
    action and the argument that forces it; nothing of it is applied, and the session
    destroys the base deployment with nothing left behind."""
    project = make_project(tmp_path)
    suffix = new_suffix("ur")
    proc = run_upgrade(project, suffix, "rename")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out[-4000:]
    assert "upgrade from HEAD" in out and "refused" in out
    assert "aws_s3_bucket.b: replace (delete, then create), forced by a change of bucket" in out
    assert "aws_kms_key.k:" not in out, "the key is unchanged: only the bucket is named"

    wd = workdir(project, suffix)
    record = read_plan_record(wd)
    assert record is not None and record.stateful_verdict == "would replace or destroy"
    assert [(c.address, c.action, c.replace_paths) for c in record.stateful_changes] == [
        ("aws_s3_bucket.b", "replace", [["bucket"]])]
    (base_apply,) = logs_named(project, suffix, "apply")  # the refused plan is never applied
    assert base_apply.count("Creation complete") == 2
    assert [e["event"] for e in wd.events()] == ["deploy-start", "deploy-failed",
                                                "destroy-start", "destroy-done"]
    (destroy,) = logs_named(project, suffix, "destroy")
    assert destroy.count("Destruction complete") == 2
    assert_destroyed_without_leftovers(project, suffix)


def test_a_ref_that_does_not_resolve_is_a_usage_error_before_anything_is_created(tmp_path):
    project = make_project(tmp_path)
    proc = subprocess.run(pytest_command("--stack-upgrade-from", "no-such-ref-0x1"), cwd=project,
                          env=pytest_env(UPGRADE_HEAD="tag"), capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 4, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "--stack-upgrade-from no-such-ref-0x1: no such commit or tag" in proc.stderr
    assert not (project / ".stack-work").exists()
