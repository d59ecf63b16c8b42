"""Policy gate: checkov on the plan of the synthesized sandbox stack, zero unreviewed findings.

One plan per session (~17-30 s of plan, show and scan on 2 cores, started in the background
right after the synth: see tests/speedups.py): terraform plans the `sandbox` synth against a
moto server of its own on a free loopback port, through the offline provider mirror
(evidence/gate_plan.py).
"""
import pytest

from evidence import checkov_gate, gate_plan

pytestmark = pytest.mark.unit


@pytest.fixture(scope="session")
def policy_gate(synthesized, background_checks):
    return background_checks.gate


@pytest.mark.control("2.2.1")
def test_planned_stack_passes_checkov_with_only_reviewed_suppressions(
        policy_gate, evidence_bundle, record_fact):
    try:
        result, raw = policy_gate.result()
    except checkov_gate.GateError as exc:
        pytest.fail(f"policy gate could not run: {exc}", pytrace=False)
    summary = result.as_dict()
    evidence_bundle.write_json("checkov/results_json.json", raw)
    evidence_bundle.write_json("checkov/gate.json", summary)
    for name, count in result.counts().items():
        record_fact(f"checkov.{name}", count)
    record_fact("checkov.resources_scanned", result.resource_count)
    record_fact("checkov.suppressed", [f"{c['check_id']} {c['resource']} ({c['suppression']['kind']})"
                                       for c in summary["suppressed"]])
    assert result.passed, "checkov passed no check at all: the scan saw nothing"
    assert not result.problems(), "policy gate:\n" + "\n".join(result.problems())


def test_a_gate_without_terraform_says_why_before_it_creates_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(gate_plan.shutil, "which", lambda name: None)
    with pytest.raises(checkov_gate.GateError, match="terraform is not on PATH"):
        gate_plan.plan_json(tmp_path / "stack", tmp_path / "gate")
    assert not (tmp_path / "gate").exists()
