"""terraform validate and the policy gate, started as soon as the synth is done.

They are the slow part of the unit suite (a cold run on 2 cores: ~4-7 s per validate,
~17-30 s of plan + show + checkov, against ~5-9 s of synth) and need nothing but the JSON,
so the session starts them in background threads right after the synth (what needs no JSON
even before it: checkov's imports, the gate's moto and `terraform init`), for the selected
tests that need them only, and the ~260 JSON assertions run meanwhile.
Each check keeps its content-keyed cache: validating or scanning identical input with
identical tools proves nothing new.

When the gate runs, the sandbox JSON is not validated a second time: `terraform plan` starts
with the same validate walk (`Starting graph walk: walkValidate` in its log) and the gate
plans exactly that JSON, so its plan is the sandbox's validation; on two cores the separate
run cost ~12 CPU-seconds the gate was waiting for.
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from evidence import checkov_gate, gate_plan
from harness.mirror import require_mirror, write_cli_config
from harness.terraform import terraform_env, version_json
from stack.synthesis.synth import PROJECT_ROOT
from stack.synthesis.cache import caching_off, default_cache_dir

VALIDATED = ("prod", "imported", "sandbox")
VALID = "Success! The configuration is valid."
BY_GATE = " (proven by the policy gate's `terraform plan`, which validates before it plans)"
VALIDATE_FIXTURE = "validations"
GATE_FIXTURE = "policy_gate"


def _validated_marker(json_text: str, mirror: Path) -> Path | None:
    if caching_off():
        return None
    key = "\0".join([json_text, version_json(), str(mirror)])
    return default_cache_dir(PROJECT_ROOT) / "validated" / hashlib.sha256(key.encode()).hexdigest()[:32]


def validate(stack_dir: Path, workdir: Path, mirror: Path, json_text: str) -> str:
    """`terraform init` + `terraform validate` output; a success is remembered by content."""
    marker = _validated_marker(json_text, mirror)
    if marker is not None and marker.is_file():
        return marker.read_text()
    shutil.copytree(stack_dir, workdir)
    env = terraform_env(write_cli_config(workdir / "terraform.rc", mirror))
    # Lower priority: the gate's plan is the suite's critical path; validates fill its gaps.
    nice = ["nice", "-n", "10"] if shutil.which("nice") else []
    out = []
    for cmd in (["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                [*nice, "terraform", "validate", "-no-color"]):
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        out.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            break
    text = "\n".join(out)
    if marker is not None and VALID in text:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(text)
    return text


class BackgroundChecks:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(max_workers=len(VALIDATED) + 2, thread_name_prefix="tf-check")
        self.validations: dict[str, Future] = {}
        self.gate: Future | None = None
        self.checkov: checkov_gate.CheckovProcess | None = None
        self.gate_plan: gate_plan.GatePlan | None = None

    def get_ready(self, needed_fixtures: set[str], sandbox_is_new: bool) -> None:
        """Before a synth: when the gate will scan a new sandbox JSON, what it needs before
        the JSON starts now, on the core the synth leaves idle: checkov's imports (~5.5 s),
        the plan's moto and `terraform init` (~1.2 s)."""
        if GATE_FIXTURE not in needed_fixtures or not sandbox_is_new or self.gate_plan is not None:
            return
        try:
            self.checkov = checkov_gate.CheckovProcess()
        except checkov_gate.GateError:
            pass  # checkov is missing: the gate says so, with what to do
        self.gate_plan = gate_plan.GatePlan(self.workdir / "gate")
        # An error is kept and raised again by the gate's own call to prepare.
        self.pool.submit(self.gate_plan.prepare)

    def start(self, needed_fixtures: set[str], docs: dict) -> None:
        """Start what the selected tests need; ``docs`` maps config name to TfJson."""
        if GATE_FIXTURE in needed_fixtures and self.gate is None:
            # First: it is the longest, and a cached scan returns at once.
            self.gate = self.pool.submit(checkov_gate.run_gate, docs["sandbox"].path.parent,
                                         self.workdir / "gate", checkov=self.checkov,
                                         plan=self.gate_plan)
        if VALIDATE_FIXTURE in needed_fixtures and not self.validations:
            if shutil.which("terraform") is None:
                raise RuntimeError("terraform is not on PATH: run bin/setup")
            mirror = require_mirror()
            for name in VALIDATED:
                doc = docs[name]
                args = (doc.path.parent, self.workdir / "validate" / name, mirror, doc.text)
                self.validations[name] = (self.pool.submit(self._validated_by_gate, args)
                                          if name == "sandbox" and self.gate is not None
                                          else self.pool.submit(validate, *args))

    def _validated_by_gate(self, validate_args: tuple) -> str:
        try:
            self.gate.result()
        except checkov_gate.GateError as exc:
            if exc.step == "plan":
                return str(exc)           # the validate walk or the plan refused the JSON
            return validate(*validate_args)  # the gate broke elsewhere: validate on its own
        return VALID + BY_GATE

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.checkov is not None:
            self.checkov.close()
        if self.gate_plan is not None:
            self.gate_plan.close()
