"""What an assessor needs to know about the run: commit, tool versions, deployment target."""
from __future__ import annotations

import platform
import re
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

NOT_DEPLOYED = "n/a (unit run)"
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


def _run(args: list[str], cwd: Path) -> str:
    try:
        proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    return proc.stdout.strip() if proc.returncode == 0 else f"unavailable (exit {proc.returncode})"


def git_info(root: Path) -> dict[str, Any]:
    commit = _run(["git", "rev-parse", "HEAD"], root)
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], root)
    return {"commit": commit, "dirty": bool(dirty) and not dirty.startswith("unavailable")}


def _dist(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def tool_versions(root: Path) -> dict[str, str]:
    from harness.mirror import PROVIDER_VERSION
    from evidence.checkov_gate import PROJECT_ROOT, checkov_version
    from harness.terraform import version as terraform_version
    return {"terraform": terraform_version(), "provider hashicorp/aws": PROVIDER_VERSION,
            "cdktf": _dist("cdktf"), "cdktf-cdktf-provider-aws": _dist("cdktf-cdktf-provider-aws"),
            "python": platform.python_version(), "moto": _dist("moto"), "pytest": _dist("pytest"),
            "checkov": checkov_version(PROJECT_ROOT)}


def deployment_info(config: pytest.Config) -> dict[str, str]:
    """Target, suffix, region and account of the stack this run deployed (or tested), as the
    harness plugin recorded it; "n/a (unit run)" when no stack was deployed."""
    info = {"target": NOT_DEPLOYED, "suffix": NOT_DEPLOYED, "region": NOT_DEPLOYED,
            "account_id": NOT_DEPLOYED, "deployment_status": NOT_DEPLOYED}
    # The hook (harness/hooks.py) exists only where the harness plugin added its hookspecs.
    if not hasattr(config.hook, "pytest_stack_deployment_summary"):
        return info
    from harness.record import RecordError
    try:
        summary = config.hook.pytest_stack_deployment_summary(config=config)
    except RecordError as exc:
        # Never "not deployed": a damaged record may stand for resources that still exist.
        unknown = "unknown (deployment record unreadable)"
        return {**{key: unknown for key in info}, "deployment_status": f"unknown: {exc}"}
    if summary is None:
        return info
    return {"target": summary.target.value, "suffix": summary.suffix, "region": summary.region,
            "deployment_status": summary.status.value,
            "account_id": _account_from_arns(summary.public_outputs)}


def _account_from_arns(outputs: Mapping[str, Any] | None) -> str:
    # The account the provider actually created resources in, read back from the stack's
    # own outputs (ARNs), not assumed: in the sandbox it is whatever moto reports.
    if outputs is None:
        return "unknown (no outputs recorded)"
    for value in outputs.values():
        m = _ARN_ACCOUNT.match(str(value))
        if m:
            return m.group(1)
    return "unknown (no ARN in the outputs)"
