"""What an assessor needs to know about the run: commit, tool versions, deployment target."""
from __future__ import annotations

import json
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

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


def deployment_info(config) -> dict[str, Any]:
    """Target, suffix, region and account of the stack this run deployed (or tested), read
    from the harness plugin's records; "n/a (unit run)" when no stack was deployed."""
    info = {"target": NOT_DEPLOYED, "suffix": NOT_DEPLOYED, "region": NOT_DEPLOYED,
            "account_id": NOT_DEPLOYED, "deployment_status": NOT_DEPLOYED}
    try:
        from harness.plugin import _KEY
    except ImportError:
        return info
    harness = config.stash.get(_KEY, None)
    if harness is None:
        return info
    record = harness.workdir.read_deployment()
    if not record or (record.get("run_id") != harness.run_id and not harness.opts.reuse):
        return info
    info.update(target=record.get("target", "?"), suffix=harness.opts.suffix,
                region=record.get("region", "?"), deployment_status=record.get("status", "?"),
                account_id=_account_from_arns(harness.workdir))
    return info


def _account_from_arns(workdir) -> str:
    # The account the provider actually created resources in, read back from the stack's
    # own outputs (ARNs), not assumed: in the sandbox it is whatever moto reports.
    try:
        outputs = json.loads(Path(workdir.outputs_file).read_text())
    except (OSError, ValueError):
        return "unknown (no outputs recorded)"
    for value in outputs.values():
        m = _ARN_ACCOUNT.match(str(value))
        if m:
            return m.group(1)
    return "unknown (no ARN in the outputs)"
