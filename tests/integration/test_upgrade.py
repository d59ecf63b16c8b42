"""The deployed upgrade (``--stack-upgrade-from REF``): the stack under test is REF's stack
upgraded in place to this commit, and the plan that did it kept everything that holds data."""
from __future__ import annotations

import pytest

from evidence.upgrade_safety import STATEFUL_TYPES
from harness.upgrade import read_plan_record
from tests.integration.conftest import state_resources

pytestmark = pytest.mark.integration

PLAN_EVIDENCE = "upgrade/plan.json"


def _upgrade_ref(config: pytest.Config) -> str:
    return str(config.getoption("stack_upgrade_from") or config.getini("stack_upgrade_from"))


@pytest.mark.control("6.5.1", "6.5.2")
def test_the_upgrade_from_the_base_release_kept_every_resource_that_holds_data(
        stack, request, record_fact, evidence_bundle):
    """Upgrading the deployed base release to this commit replaced or deleted no resource that
    holds data, and the upgraded stack is what the other integration tests prove."""
    ref = _upgrade_ref(request.config)
    if not ref:
        pytest.skip("not an upgrade run: pass --stack-upgrade-from REF to deploy REF first "
                    "and upgrade it")
    record = read_plan_record(stack.workdir)
    assert record is not None, (f"--stack-upgrade-from {ref} was given but the deploy left no "
                                f"plan verdict in {stack.workdir.path}")
    evidence_bundle.write_json(PLAN_EVIDENCE, record.model_dump(mode="json"))
    record_fact("upgrade_base", f"{record.base_ref} {record.base_commit}")
    record_fact("upgrade_plan_by_type", record.by_type)
    assert record.stateful_verdict == "kept" and not record.stateful_changes
    # The resources that hold data are all in the upgraded state (none lost on the way).
    assert {r["type"] for r in state_resources(stack)} >= STATEFUL_TYPES
