"""The verdict on a deployed upgrade's plan: what ``terraform show -json tfplan`` says this
commit would do to the base's resources, by type, and whether it replaces or deletes anything
that holds data (evidence.upgrade_safety.STATEFUL_TYPES, the one list).

A plan sees what no JSON diff does: an argument that forces a new resource (a bucket's
name, a cluster's ``kms_key_id``) shows as a replacement here, with the argument in
``replace_paths``. Pure functions and typed records; no terraform call.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from evidence.upgrade_safety import STATEFUL_TYPES

Action = Literal["create", "update", "replace", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete")

# Terraform's action lists (plan JSON format): a replacement is delete+create (or
# create+delete with create_before_destroy); no-op, read and forget leave the object as it is.
_ACTIONS_OF: dict[tuple[str, ...], Action] = {
    ("create",): "create",
    ("update",): "update",
    ("delete", "create"): "replace",
    ("create", "delete"): "replace",
    ("delete",): "delete",
}


class PlannedChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    address: str
    resource_type: str
    action: Action
    # The arguments that force the replacement, as terraform names them (["bucket"],
    # ["kms_key_id"]); empty unless the action is a replacement.
    replace_paths: list[list[str | int]] = []

    def line(self) -> str:
        forced = ", ".join(".".join(str(p) for p in path) for path in self.replace_paths)
        how = {"replace": "replace (delete, then create)", "delete": "delete"}.get(self.action,
                                                                                    self.action)
        return f"{self.address}: {how}" + (f", forced by a change of {forced}" if forced else "")


class PlanRecord(BaseModel):
    """What the bundle keeps of the deployed upgrade (upgrade/plan.json)."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    check: Literal["deployed plan"] = "deployed plan"
    base_ref: str
    base_commit: str
    head_commit: str
    by_type: dict[Action, dict[str, int]]
    stateful_types: list[str]
    stateful_verdict: Literal["kept", "would replace or destroy"]
    stateful_changes: list[PlannedChange]

    @property
    def refused(self) -> bool:
        return bool(self.stateful_changes)


class PlanFormatError(ValueError):
    pass


def planned_changes(plan: Mapping[str, Any]) -> list[PlannedChange]:
    """Every managed resource the plan creates, updates, replaces or deletes."""
    changes = []
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") != "managed":
            continue
        actions = tuple(rc.get("change", {}).get("actions", ()))
        action = _ACTIONS_OF.get(actions)
        if action is None:
            if set(actions) - {"no-op", "read", "forget"}:
                raise PlanFormatError(f"{rc.get('address')}: unknown plan actions {list(actions)} "
                                      "(terraform's plan JSON format changed?); update "
                                      "harness/upgrade_plan.py's table of actions")
            continue
        paths = (rc["change"].get("replace_paths") or []) if action == "replace" else []
        changes.append(PlannedChange(address=rc["address"], resource_type=rc["type"],
                                     action=action, replace_paths=paths))
    return changes


def judge(plan: Mapping[str, Any], base_ref: str, base_commit: str,
          head_commit: str) -> PlanRecord:
    changes = planned_changes(plan)
    stateful = [c for c in changes
                if c.resource_type in STATEFUL_TYPES and c.action in ("replace", "delete")]
    return PlanRecord(base_ref=base_ref, base_commit=base_commit, head_commit=head_commit,
                      by_type={a: _count_by_type(c for c in changes if c.action == a)
                               for a in ACTIONS},
                      stateful_types=sorted(STATEFUL_TYPES),
                      stateful_verdict="would replace or destroy" if stateful else "kept",
                      stateful_changes=stateful)


def refusal(record: PlanRecord) -> str:
    """The deploy error for a plan that replaces or deletes what holds data."""
    return (f"upgrade from {record.base_ref} ({record.base_commit[:12]}) refused: this commit's "
            "plan would replace or delete resources that hold data "
            f"({', '.join(record.stateful_types)}):\n"
            + "\n".join(f"  {c.line()}" for c in record.stateful_changes)
            + "\nNothing of this plan was applied; the base deployment is destroyed at the end of "
            "the session. Keep each object: revert the argument that forces its replacement (or "
            "make the change in place if the provider allows it), and for a new address add a "
            "`moved` block (cdktf: resource.move_from_id(old_address)).")


def _count_by_type(changes: Iterable[PlannedChange]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for change in changes:
        counts[change.resource_type] = counts.get(change.resource_type, 0) + 1
    return dict(sorted(counts.items()))
