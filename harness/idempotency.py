"""After the apply, a second plan must be empty (Terratest's InitAndApplyAndIdempotent).

``terraform plan -detailed-exitcode -refresh=true`` (logged like every call): exit 0 passes;
exit 2 reads the saved plan with ``terraform show -json`` and lists what it would change.
On ``aws`` any change fails the deploy; in the sandbox the reviewed moto drifts in
``harness/drift_allowlist.yaml`` are waived and anything else fails.
"""
from __future__ import annotations

import json

from harness.drift import plan_changes
from harness.drift_allowlist import Verdict, judge, load_allowlist
from harness.errors import DeployError
from harness.progress import Progress
from harness.record import Target
from harness.terraform import Terraform

PLAN_FILE = "idempotency.tfplan"
NO_CHANGES = 0


class IdempotencyError(DeployError):
    """The plan after the apply is not empty (beyond the waived moto drifts)."""


def check_idempotent(tf: Terraform, target: Target, progress: Progress) -> Verdict:
    """Plans again; returns the verdict when nothing unexpected would change, else raises."""
    allow = load_allowlist() if target is Target.SANDBOX else None
    exit_code = tf.plan_detailed(PLAN_FILE)
    if exit_code == NO_CHANGES:
        return judge((), allow)
    verdict = judge(plan_changes(json.loads(tf.show_json(PLAN_FILE))), allow)
    if verdict.allowed:
        progress.say(f"idempotency: {len(verdict.allowed)} moto drift(s) waived by "
                     "harness/drift_allowlist.yaml")
    if verdict.unexpected:
        where = ("on aws every change fails" if allow is None
                 else "not in harness/drift_allowlist.yaml")
        raise IdempotencyError(
            f"not idempotent: a plan right after the apply would change "
            f"{len(verdict.unexpected)} attribute(s) ({where}):\n"
            + "\n".join(f"  {c.line()}" for c in verdict.unexpected)
            + f"\nThe plan is {tf.workdir.tf_dir / PLAN_FILE}; its log is in "
            f"{tf.workdir.logs_dir}. Fix the stack so the apply converges"
            + ("" if allow is None else ", or, if it is moto's fidelity and not the stack, "
               "add a reviewed entry to harness/drift_allowlist.yaml"))
    return verdict
