"""The nightly's options refused before anything is created, on the aws path against a moto
server standing in for the account (only AWS_ENDPOINT_URL points the SDKs at it). What the
options do, on the whole platform: test_aws_rehearsal.py.

A tiny Terraform JSON (an S3 bucket and an SSM parameter) stands in for the platform.
"""
from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.component import aws_standin, child_pytest
from tests.component.child_pytest import pytest_command, pytest_env

pytestmark = pytest.mark.component

# No endpoints in the provider: on the aws path the SDK's standard settings decide.
AWS_TINY_CONFTEST = textwrap.dedent('''
    import pytest
    from tests.component.tiny_stack import write_stack
    pytest_plugins = ["harness.plugin"]

    @pytest.hookimpl(tryfirst=True)
    def pytest_stack_synthesize(stack_config, outdir):
        s = stack_config.environment_suffix
        resources = {
            "aws_s3_bucket": {"b": {"bucket": f"remote-{s}"}},
            "aws_ssm_parameter": {"p": {"name": f"/remote/{s}", "type": "String", "value": "v"}}}
        return write_stack(stack_config, outdir, resources,
                           {"bucket_name": {"value": "${aws_s3_bucket.b.bucket}"}},
                           allowed_account_ids=list(stack_config.allowed_account_ids))
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
