"""The policy gate's plan: ``terraform show -json`` of a plan of the synthesized sandbox stack,
made against a moto server of its own on a free loopback port (no cloud, no credentials but
moto's), with the provider from the offline mirror.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import mirror, sandbox
from harness.terraform import terraform_env

STACK_FILE = "cdk.tf.json"
DEFAULT_REGION = "us-east-1"


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


def planned_resource_count(plan: dict[str, Any]) -> int:
    return sum(1 for rc in plan.get("resource_changes", [])
               if rc.get("mode") == "managed" and "create" in rc["change"]["actions"])


@dataclass(frozen=True)
class Plan:
    json_file: Path              # `terraform show -json` of the plan
    seconds: dict[str, float]    # per step: moto start, terraform init, plan, show


def plan_json(stack_dir: Path, workdir: Path) -> Plan:
    """Plan the synthesized sandbox stack in ``stack_dir`` (its JSON and assets) in
    ``workdir``, against a moto started for it and stopped when done."""
    if shutil.which("terraform") is None:
        raise GateError("terraform is not on PATH: install Terraform 1.11.x and re-run")
    try:
        mirror_root = mirror.require_mirror()
    except mirror.MirrorError as exc:
        raise GateError(str(exc)) from None
    tf_dir = workdir / "tf"
    shutil.copytree(stack_dir, tf_dir)
    stack_file = tf_dir / STACK_FILE
    text = stack_file.read_text()
    doc = json.loads(text)
    synth_endpoint = sandbox_endpoint(doc)
    cli_config = mirror.write_cli_config(workdir / "terraform.rc", mirror_root)
    log = workdir / "terraform.log"
    seconds: dict[str, float] = {}
    started = time.monotonic()
    try:
        endpoint, pid = sandbox.start(workdir / "moto.log")
    except sandbox.SandboxError as exc:
        raise GateError(f"the gate's moto server did not start: {exc}") from None
    seconds["moto start"] = time.monotonic() - started
    try:
        env = terraform_env(cli_config, doc["provider"]["aws"][0].get("region", DEFAULT_REGION),
                            endpoint)
        # The unit synth names a placeholder port; this plan's moto listens elsewhere.
        stack_file.write_text(text.replace(synth_endpoint, endpoint))
        plan_file = workdir / "plan.json"
        for step, args, timeout, stdout in (
                ("init", ["init", "-input=false", "-no-color"], 300, None),
                ("plan", ["plan", "-input=false", "-no-color", "-lock=false", "-out=gate.tfplan"],
                 900, None),
                ("show", ["show", "-json", "gate.tfplan"], 300, plan_file)):
            started = time.monotonic()
            _terraform(args, tf_dir, env, log, timeout, stdout)
            seconds[f"terraform {step}"] = time.monotonic() - started
    finally:
        sandbox.stop(pid)
    return Plan(plan_file, seconds)


def _terraform(args: list[str], cwd: Path, env: dict[str, str], log: Path, timeout: float,
               stdout: Path | None) -> None:
    with open(log, "a") as fh, (open(stdout, "w") if stdout else fh) as out:
        fh.write(f"$ terraform {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run(["terraform", *args], cwd=cwd, env=env, stdout=out, stderr=fh,
                              stdin=subprocess.DEVNULL, timeout=timeout)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise GateError(f"terraform {args[0]} failed (exit {proc.returncode}); full log "
                        f"{log}\n{tail}", step=args[0])
