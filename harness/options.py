"""The plugin's options after validation (plugin.py parses the command line into these)."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from evidence.base_synth import Base
from harness.record import Target
from harness.remote_state import workdir_for
from harness.workdir import StackWorkdir


class Options(BaseModel):
    """Frozen and JSON-serializable: the xdist controller hands the same options to every worker."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    target: Target = Target.SANDBOX
    sandbox_endpoint: str | None = None
    suffix: str = ""
    keep: bool = False
    reuse: bool = False
    workdir_root: Path = Path(".stack-work")
    config_file: Path | None = None
    destroy_attempts: int = 3
    # --stack-upgrade-from, resolved to its commit while the options were parsed.
    upgrade_from: Base | None = None
    # The run's ExpiresAt tag (harness.run_tags), computed once by the controller.
    expires_at: str = ""
    # --stack-state: s3://bucket/prefix (harness.remote_state); None keeps state local.
    stack_state: str | None = None

    @property
    def is_sandbox(self) -> bool:
        return self.target is Target.SANDBOX

    @property
    def workdir(self) -> StackWorkdir:
        return workdir_for(self.workdir_root, self.suffix, self.stack_state)
