"""The policy gate's plan (evidence/gate_plan.py) on a one-bucket stack: prepared before the
JSON exists, planned once it does, its moto stopped after, and a stack whose `terraform`
block is not the pinned one initialized again rather than planned against the wrong init."""
from __future__ import annotations

import json

import pytest

from evidence import gate_plan
from harness import sandbox

pytestmark = pytest.mark.component

PLACEHOLDER = "http://127.0.0.1:5999"


def write_stack(stack_dir, backend_path: str = "terraform.tfstate"):
    stack_dir.mkdir()
    doc = {
        "terraform": {**gate_plan.REQUIREMENTS, "backend": {"local": {"path": backend_path}}},
        "provider": {"aws": [{
            "region": "us-east-1", "s3_use_path_style": True, "skip_credentials_validation": True,
            "skip_metadata_api_check": "true", "skip_region_validation": True,
            "endpoints": [{"s3": PLACEHOLDER, "sts": PLACEHOLDER}]}]},
        "resource": {"aws_s3_bucket": {"uploads": {"bucket": "gate-plan-test-uploads"}}},
    }
    (stack_dir / gate_plan.STACK_FILE).write_text(json.dumps(doc))
    return stack_dir


@pytest.mark.parametrize("backend_path, init_again", [("terraform.tfstate", False),
                                                       ("elsewhere.tfstate", True)])
def test_a_prepared_plan_plans_the_stack_and_stops_its_moto(tmp_path, backend_path, init_again):
    stack_dir = write_stack(tmp_path / "stack", backend_path)
    plan = gate_plan.GatePlan(tmp_path / "gate")
    plan.prepare()
    pid = plan._pid
    assert sandbox.alive(pid)

    plan_file = plan.plan(stack_dir)

    doc = json.loads(plan_file.read_text())
    assert gate_plan.planned_resource_count(doc) == 1
    assert doc["planned_values"]["root_module"]["resources"][0]["values"]["bucket"] == \
        "gate-plan-test-uploads"
    assert any(step.startswith("terraform init (again") for step in plan.seconds) is init_again
    assert not sandbox.alive(pid), "the gate's moto outlived its plan"
    assert PLACEHOLDER not in (tmp_path / "gate" / "tf" / gate_plan.STACK_FILE).read_text()
