"""The policy gate's checkov process (evidence/checkov_gate.py: CheckovProcess), which imports
checkov while the synth runs and scans when told, against checkov's own command line.

checkov itself is not deterministic in the order of its findings and of each finding's
evaluated keys (two CLI runs on one file differ), so reports are compared as sorted sets of
what the gate reads, keys sorted.
"""
from __future__ import annotations

import json
import subprocess

import pytest

from evidence import checkov_gate

pytestmark = pytest.mark.component

_BUCKET = {"bucket": "cardholder-uploads", "force_destroy": False, "tags": None}
PLAN = {  # `terraform show -json` of a plan creating one bare S3 bucket: it fails some checks
    "format_version": "1.2", "terraform_version": "1.11.4",
    "planned_values": {"root_module": {"resources": [{
        "address": "aws_s3_bucket.uploads", "mode": "managed", "type": "aws_s3_bucket",
        "name": "uploads", "provider_name": "registry.terraform.io/hashicorp/aws",
        "schema_version": 0, "values": _BUCKET}]}},
    "resource_changes": [{
        "address": "aws_s3_bucket.uploads", "mode": "managed", "type": "aws_s3_bucket",
        "name": "uploads", "provider_name": "registry.terraform.io/hashicorp/aws",
        "change": {"actions": ["create"], "before": None, "after": _BUCKET, "after_unknown": {}}}],
    "configuration": {"root_module": {"resources": [{
        "address": "aws_s3_bucket.uploads", "mode": "managed", "type": "aws_s3_bucket",
        "name": "uploads", "provider_config_key": "aws", "schema_version": 0,
        "expressions": {"bucket": {"constant_value": "cardholder-uploads"}}}]}},
}


def _findings(report: dict) -> dict[str, list[tuple]]:
    return {kind: sorted((c["check_id"], c["resource"], c["check_name"], c.get("guideline"),
                          c["check_result"]["result"],
                          tuple(sorted(c["check_result"].get("evaluated_keys", []))))
                         for c in checks)
            for kind, checks in report["results"].items()}


@pytest.fixture
def plan_file(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(PLAN))
    return path


def test_a_scan_through_the_process_reports_what_the_command_line_reports(plan_file):
    binary = checkov_gate.checkov_binary()  # missing: a GateError that says to run bin/setup
    cli = subprocess.run([str(binary), *checkov_gate.scan_args(plan_file)], capture_output=True,
                         text=True, env=checkov_gate.checkov_env(), timeout=300)
    assert cli.returncode == 0, cli.stderr[-2000:]
    expected = json.loads(cli.stdout)

    report = checkov_gate.scan(plan_file, checkov=checkov_gate.CheckovProcess())

    assert report["summary"] == expected["summary"]
    assert _findings(report) == _findings(expected)
    assert report["summary"]["failed"] > 0 and report["summary"]["passed"] > 0


def test_a_process_never_told_to_scan_ends_cleanly():
    """Its caller closed (or died): end of input ends it, nothing scanned, nothing printed."""
    process = checkov_gate.CheckovProcess()
    process.proc.stdin.close()
    assert process.proc.wait(timeout=120) == 0
    assert process.proc.stdout.read() == ""
    process.close()


def test_close_ends_a_process_still_importing():
    process = checkov_gate.CheckovProcess()
    process.close()
    assert process.proc.returncode is not None
