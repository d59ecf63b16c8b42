"""The deployed upgrade's verdict on a plan (harness/upgrade_plan.py), from plan JSON shaped as
`terraform show -json tfplan` writes it; and how the bundle's summary shows it first."""
from __future__ import annotations

from typing import Any

import pytest

from evidence import bundle
from harness.upgrade_plan import PlanFormatError, judge, refusal

pytestmark = pytest.mark.unit


def _change(address: str, actions: list[str], replace_paths: list[list[str]] | None = None,
            mode: str = "managed") -> dict[str, Any]:
    change: dict[str, Any] = {"actions": actions}
    if replace_paths is not None:
        change["replace_paths"] = replace_paths
    return {"address": address, "mode": mode, "type": address.split(".")[0],
            "name": address.split(".")[1], "change": change}


def _judge(*changes: dict[str, Any]):
    return judge({"format_version": "1.2", "resource_changes": list(changes)},
                 "v1.0.0", "a" * 40, "b" * 40)


@pytest.mark.parametrize("actions", [["delete", "create"], ["create", "delete"]])
def test_a_replaced_cluster_is_refused_naming_the_argument_that_forced_it(actions):
    record = _judge(_change("aws_rds_cluster.db", actions, [["kms_key_id"]]),
                    _change("aws_lb.alb", ["update"]))
    assert record.refused and record.stateful_verdict == "would replace or destroy"
    ((address, action, paths),) = [(c.address, c.action, c.replace_paths)
                                   for c in record.stateful_changes]
    assert (address, action, paths) == ("aws_rds_cluster.db", "replace", [["kms_key_id"]])
    text = refusal(record)
    assert "aws_rds_cluster.db: replace (delete, then create), forced by a change of kms_key_id" in text
    assert "v1.0.0 (aaaaaaaaaaaa) refused" in text and "aws_lb.alb" not in text


def test_a_deleted_bucket_is_refused():
    record = _judge(_change("aws_s3_bucket.logs", ["delete"]))
    assert [c.line() for c in record.stateful_changes] == ["aws_s3_bucket.logs: delete"]


def test_in_place_updates_of_stateful_resources_and_replacements_of_others_pass():
    record = _judge(_change("aws_s3_bucket.logs", ["update"]),
                    _change("aws_kms_key.k", ["no-op"]),
                    _change("aws_lb.alb", ["delete", "create"], [["name"]]),
                    _change("aws_iam_role.r", ["create"]),
                    _change("aws_sns_topic.t", ["delete"]),
                    _change("data.aws_caller_identity.me", ["read"], mode="data"),
                    _change("aws_s3_bucket.forgotten", ["forget"]))
    assert not record.refused and record.stateful_verdict == "kept"
    assert record.by_type == {"create": {"aws_iam_role": 1}, "update": {"aws_s3_bucket": 1},
                              "replace": {"aws_lb": 1}, "delete": {"aws_sns_topic": 1}}


def test_an_unknown_action_list_is_an_error_not_a_pass():
    with pytest.raises(PlanFormatError, match="unknown plan actions"):
        _judge(_change("aws_rds_cluster.db", ["teleport"]))


def _summary(plan: dict[str, Any] | None, change: dict[str, Any] | None = None) -> str:
    meta = {"standard_version": "4.0.1", "run_id": "r1", "started": "s", "finished": "f",
            "table_digest": "d", "tools": {}}
    return bundle.summary_md(meta, [], None, change, plan)


def test_the_summary_shows_the_deployed_plan_first():
    refused = _judge(_change("aws_rds_cluster.db", ["delete", "create"], [["kms_key_id"]]))
    text = _summary(refused.model_dump(mode="json"))
    section = text.split("\n## ")[1]
    assert section.startswith("Upgrade (PCI DSS 6.5.1, 6.5.2)")
    assert "deployed plan" in section
    assert ("**the plan would replace or delete 1; it was refused, not applied:** "
            "`aws_rds_cluster.db` replace (forced by kms_key_id).") in section
    assert "| replace | aws_rds_cluster 1 |" in section and "| create | none |" in section
    kept = _summary(_judge(_change("aws_s3_bucket.b", ["update"])).model_dump(mode="json"))
    assert "**the plan replaces or deletes none of them.**" in kept
    assert "| update | aws_s3_bucket 1 |" in kept
    assert "Not checked in this run" not in kept
