"""The deployed upgrade (``--stack-upgrade-from REF``): deploy REF's stack, then plan this
commit on the same state and apply it only if the plan keeps everything that holds data.

Inside the Deployer's deploy, so the lifecycle is a fresh run's: the suffix's FileLock, one
deploy under xdist, the deployment recorded before anything is created, and the destroy at
the end of the session whatever happened (a refused plan leaves the base deployed, and the
session destroys it like any failed deploy).

    base synth   REF synthesized with its own code in a git worktree (hook
                 pytest_stack_synthesize_base; the default is evidence.base_synth), for this
                 deploy's config (the sandbox endpoint and certificate exist by then)
    base apply   init + apply in the suffix's tf dir: the same state file
    head plan    this commit's JSON over it, ``plan -out``, ``show -json``, judged by
                 harness.upgrade_plan; a replaced or deleted stateful resource fails the deploy
    head apply   exactly that saved plan, by the Deployer (Terraform.apply_saved)
"""
from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from evidence import base_synth
from evidence.base_synth import Base, BaseError, non_default_settings
from harness.errors import DeployError, HarnessError
from harness.progress import Progress
from harness.terraform import Terraform
from harness.upgrade_plan import PlanFormatError, PlanRecord, judge, refusal
from harness.workdir import StackWorkdir
from stack.config import StackConfig
from stack.synthesis.synth import PROJECT_ROOT

OPTION = "--stack-upgrade-from"
# Where the deployed check's record is kept in the suffix's workdir; the integration test
# tests/integration/test_upgrade.py copies it into the evidence bundle.
PLAN_RECORD = "upgrade-plan.json"
BASE_SYNTH_DIR = "base-synth"

BaseSynthesizer = Callable[[StackConfig, Path, Base], Path]


def resolve_base(ref: str) -> Base:
    """``ref`` as a commit of the stack's repository; HarnessError names the option."""
    try:
        return base_synth.resolve(PROJECT_ROOT, ref, flag=OPTION)
    except BaseError as exc:
        raise HarnessError(str(exc)) from None


def synthesize_base(cfg: StackConfig, outdir: Path, base: Base) -> Path:
    """The default base: REF's own code, given only the settings that differ from the
    defaults (a setting added since REF would trip its parser)."""
    try:
        return base_synth.synthesize_base_stack(PROJECT_ROOT, base, non_default_settings(cfg),
                                                outdir)
    except BaseError as exc:
        raise DeployError(f"{OPTION} {base.ref}: {exc}") from None


def plan_record_path(workdir: StackWorkdir) -> Path:
    return workdir.path / PLAN_RECORD


def read_plan_record(workdir: StackWorkdir) -> PlanRecord | None:
    path = plan_record_path(workdir)
    return PlanRecord.model_validate_json(path.read_text()) if path.is_file() else None


class _Prefixed(Progress):
    """The base's terraform steps under their own names (base-init, base-apply),
    so the timings tell the base's deploy from the upgrade's."""

    def __init__(self, inner: Progress, prefix: str):
        super().__init__(inner.workdir, inner._write, inner.interval)
        self.prefix = prefix

    @contextlib.contextmanager
    def step(self, name: str, detail: Callable[[], str] | None = None) -> Iterator[None]:
        with super().step(self.prefix + name, detail):
            yield


class Upgrade:
    def __init__(self, base: Base, synthesize: BaseSynthesizer, progress: Progress):
        self.base = base
        self.synthesize = synthesize
        self.progress = progress

    def deploy_base(self, cfg: StackConfig, tf: Terraform, place: Callable[[Path], None]) -> None:
        """REF's stack applied into ``tf``'s directory and state."""
        started = time.monotonic()
        plan_record_path(tf.workdir).unlink(missing_ok=True)
        outdir = tf.workdir.path / BASE_SYNTH_DIR
        outdir.mkdir(parents=True, exist_ok=True)
        with self.progress.step("base-synth"):
            place(Path(self.synthesize(cfg, outdir, self.base)))
        base_tf = Terraform(tf.workdir, tf.env, _Prefixed(self.progress, "base-"),
                            destroy_attempts=tf.destroy_attempts, destroy_flags=tf.destroy_flags)
        base_tf.init()
        base_tf.apply()
        self.progress.say(f"upgrade: base {self.base.ref} ({self.base.commit[:12]}) applied, "
                          f"{len(tf.workdir.resources_in_state())} resources, in "
                          f"{time.monotonic() - started:.0f}s")

    def check_plan(self, tf: Terraform) -> PlanRecord:
        """Judge the saved plan of this commit; DeployError if it replaces or deletes what
        holds data. The record is written first, so a refusal is on disk too."""
        out = tf.run("plan-show", ["show", "-json", "-no-color", tf.workdir.plan_file.name],
                     timeout=600, capture=True)
        try:
            record = judge(json.loads(out or "{}"), self.base.ref, self.base.commit,
                           base_synth.head_commit(PROJECT_ROOT))
        except (PlanFormatError, BaseError) as exc:
            raise DeployError(f"{OPTION} {self.base.ref}: {exc}") from None
        # The plan JSON itself holds every value (sensitive ones too): only the verdict is kept.
        plan_record_path(tf.workdir).write_text(record.model_dump_json(indent=2) + "\n")
        if record.refused:
            self.progress.say(f"upgrade: plan REFUSED, {len(record.stateful_changes)} stateful "
                              "resources would be replaced or deleted")
            raise DeployError(refusal(record))
        counts = ", ".join(f"{sum(record.by_type[a].values())} {a}" for a in record.by_type)
        self.progress.say(f"upgrade: plan keeps every stateful resource ({counts}); applying it")
        return record
