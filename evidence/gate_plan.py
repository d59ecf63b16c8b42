"""The policy gate's plan: ``terraform show -json`` of a plan of the synthesized sandbox stack,
made against a moto server of its own on a free loopback port (no cloud, no credentials but
moto's), with the provider from the offline mirror.

In two parts, because the first needs no JSON: ``prepare`` starts moto and runs `terraform
init` for the pinned provider (~1.2 s), which the unit suite does while the synth runs;
``plan`` then plans the synthesized JSON in the initialized directory. A stack whose
`terraform` block differs from the pinned one (another backend, another provider) is
initialized again before its plan, so the head start can cost time but never correctness.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from harness import mirror, sandbox
from harness.terraform import terraform_env

# The synthesized `terraform` block (stack/main.py: local backend, the pinned provider);
# tests/unit/test_policy_gate.py proves the sandbox synth still declares exactly this.
REQUIREMENTS = {"backend": {"local": {"path": "terraform.tfstate"}},
                "required_providers": {"aws": {"source": "aws", "version": mirror.PROVIDER_VERSION}}}
STACK_FILE = "cdk.tf.json"
PREPARED_REGION = "us-east-1"  # moto's credentials are set for it before the JSON exists


class GateError(RuntimeError):
    """The gate could not run; the message says what to do. ``step`` names the terraform
    command that refused (init, plan, show), None when something else broke."""

    def __init__(self, message: str, step: str | None = None):
        super().__init__(message)
        self.step = step


def sandbox_endpoint(stack_json: dict[str, Any]) -> str:
    endpoints = stack_json["provider"]["aws"][0].get("endpoints") or [{}]
    found = {v for v in endpoints[0].values()}
    if len(found) != 1:
        raise GateError("the stack to plan is not the sandbox synth (its provider has no single "
                        f"loopback endpoint: {sorted(found)}); plan the `sandbox` configuration")
    return found.pop()


def init_requirements(terraform_block: dict[str, Any]) -> dict[str, Any]:
    """What `terraform init` depends on in a `terraform` block (not required_version)."""
    return {k: terraform_block.get(k) for k in ("backend", "required_providers")}


def planned_resource_count(plan: dict[str, Any]) -> int:
    return sum(1 for rc in plan.get("resource_changes", [])
               if rc.get("mode") == "managed" and "create" in rc["change"]["actions"])


class GatePlan:
    """One plan in ``workdir``: ``prepare`` (any thread, once), ``plan``, ``close``."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.tf_dir = workdir / "tf"
        self.log = workdir / "terraform.log"
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._prepared = False
        self._error: GateError | None = None
        self._env: dict[str, str] = {}
        self._cli_config: Path | None = None
        self._endpoint: str | None = None
        self._pid: int | None = None

    def prepare(self) -> None:
        """Moto started, the pinned provider initialized. Idempotent; a second caller waits
        for the first and gets its error, if any."""
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._prepared:
                return
            try:
                self._prepare()
            except GateError as exc:
                self._error = exc
                raise
            except sandbox.SandboxError as exc:
                self._error = GateError(f"the gate's moto server did not start: {exc}")
                raise self._error from None
            self._prepared = True

    def _prepare(self) -> None:
        if shutil.which("terraform") is None:
            raise GateError("terraform is not on PATH: install Terraform 1.11.x and re-run")
        try:
            mirror_root = mirror.require_mirror()
        except mirror.MirrorError as exc:
            raise GateError(str(exc)) from None
        self.tf_dir.mkdir(parents=True)
        (self.tf_dir / STACK_FILE).write_text(json.dumps({"terraform": REQUIREMENTS}))
        self._cli_config = mirror.write_cli_config(self.workdir / "terraform.rc", mirror_root)
        started = time.monotonic()
        self._endpoint, self._pid = sandbox.start(self.workdir / "moto.log")
        self.seconds["moto start"] = time.monotonic() - started
        self._env = terraform_env(self._cli_config, PREPARED_REGION, self._endpoint)
        self._terraform("init", ["init", "-input=false", "-no-color"], 300)

    def plan(self, stack_dir: Path) -> Path:
        """Plan the synthesized stack in ``stack_dir`` (its JSON and assets); returns the path
        of ``terraform show -json`` of that plan. Stops moto when done."""
        try:
            self.prepare()
            shutil.copytree(stack_dir, self.tf_dir, dirs_exist_ok=True)
            stack_file = self.tf_dir / STACK_FILE
            text = stack_file.read_text()
            doc = json.loads(text)
            synth_endpoint = sandbox_endpoint(doc)
            region = doc["provider"]["aws"][0].get("region", PREPARED_REGION)
            if region != PREPARED_REGION:
                self._env = terraform_env(self._cli_config, region, self._endpoint)
            # The unit synth names a placeholder port; this plan's moto listens elsewhere.
            stack_file.write_text(text.replace(synth_endpoint, self._endpoint))
            if init_requirements(doc.get("terraform", {})) != REQUIREMENTS:
                self._terraform("init (again: the stack's terraform block is not the pinned one)",
                                ["init", "-reconfigure", "-input=false", "-no-color"], 300)
            self._terraform("plan", ["plan", "-input=false", "-no-color", "-lock=false",
                                     "-out=gate.tfplan"], 900)
            plan_file = self.workdir / "plan.json"
            self._terraform("show", ["show", "-json", "gate.tfplan"], 300, stdout=plan_file)
            return plan_file
        finally:
            self.close()

    def close(self) -> None:
        """Stop moto (idempotent; also for a plan that never ran)."""
        pid, self._pid = self._pid, None
        if pid is not None:
            sandbox.stop(pid)

    def _terraform(self, step: str, args: list[str], timeout: float,
                   stdout: Path | None = None) -> None:
        started = time.monotonic()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "a") as fh, (open(stdout, "w") if stdout else fh) as out:
            fh.write(f"$ terraform {' '.join(args)}\n")
            fh.flush()
            proc = subprocess.run(["terraform", *args], cwd=self.tf_dir, env=self._env, stdout=out,
                                  stderr=fh, stdin=subprocess.DEVNULL, timeout=timeout)
        self.seconds[f"terraform {step}"] = time.monotonic() - started
        if proc.returncode != 0:
            tail = "\n".join(self.log.read_text(errors="replace").splitlines()[-25:])
            raise GateError(f"terraform {args[0]} failed (exit {proc.returncode}); full log "
                            f"{self.log}\n{tail}", step=args[0])
