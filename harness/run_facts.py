"""Who made a deployment: the git commit and the CI run, for the record and --list-stacks."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pydantic import BaseModel, ConfigDict

# Beside deployment.json, whose keys stay those earlier versions wrote (and read).
ORIGIN_FILE = "run.json"

# The CI systems' own variables for "this run" (GitHub Actions first: the nightly's example).
_CI_RUN_VARIABLES = (("GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT"), ("CI_JOB_ID", ""),
                     ("BUILD_ID", ""), ("CIRCLE_WORKFLOW_ID", ""))


class RunOrigin(BaseModel):
    """Until when a deployment may live and who made it: --list-stacks and the expiry sweep."""
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")

    expires_at: str = ""
    git_commit: str = ""
    ci_run: str = ""

    @classmethod
    def now(cls, expires_at: str, root: Path) -> RunOrigin:
        return cls(expires_at=expires_at, git_commit=git_commit(root), ci_run=ci_run())


def git_commit(root: Path) -> str:
    """The checked-out commit ("" outside a git checkout); CI's own variable wins."""
    given = os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA")
    if given:
        return given
    try:
        proc = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def ci_run() -> str:
    """The CI run id where the environment has one, e.g. GitHub's "<run id>.<attempt>"."""
    for run, attempt in _CI_RUN_VARIABLES:
        if os.environ.get(run):
            return os.environ[run] + (f".{os.environ[attempt]}" if os.environ.get(attempt) else "")
    return ""
