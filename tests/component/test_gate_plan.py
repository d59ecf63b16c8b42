"""The policy gate's plan (evidence/gate_plan.py) on a one-bucket stack: planned against a moto
of its own, which is stopped after, and the synth's placeholder endpoint replaced by it."""
from __future__ import annotations

import json

import pytest

from evidence import gate_plan
from harness import mirror, sandbox

pytestmark = pytest.mark.component

PLACEHOLDER = "http://127.0.0.1:5999"


def write_stack(stack_dir):
    stack_dir.mkdir()
    doc = {
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}},
                      "required_providers": {"aws": {"source": "aws",
                                                     "version": mirror.PROVIDER_VERSION}}},
        "provider": {"aws": [{
            "region": "us-east-1", "s3_use_path_style": True, "skip_credentials_validation": True,
            "skip_metadata_api_check": "true", "skip_region_validation": True,
            "endpoints": [{"s3": PLACEHOLDER, "sts": PLACEHOLDER}]}]},
        "resource": {"aws_s3_bucket": {"uploads": {"bucket": "gate-plan-test-uploads"}}},
    }
    (stack_dir / gate_plan.STACK_FILE).write_text(json.dumps(doc))
    return stack_dir


def test_a_plan_plans_the_stack_and_stops_its_moto(tmp_path, monkeypatch):
    real_start, started = sandbox.start, []

    def start(log_file):
        started.append(real_start(log_file))  # (endpoint, pid): to look for the pid after
        return started[-1]
    monkeypatch.setattr(sandbox, "start", start)

    plan = gate_plan.plan_json(write_stack(tmp_path / "stack"), tmp_path / "gate")

    doc = json.loads(plan.json_file.read_text())
    assert gate_plan.planned_resource_count(doc) == 1
    assert doc["planned_values"]["root_module"]["resources"][0]["values"]["bucket"] == \
        "gate-plan-test-uploads"
    [(_, pid)] = started
    assert not sandbox.alive(pid), "the gate's moto outlived its plan"
    assert PLACEHOLDER not in (tmp_path / "gate" / "tf" / gate_plan.STACK_FILE).read_text()
