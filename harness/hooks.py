"""What the harness offers to other plugins and conftest files: hooks and report properties."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.record import Status, Target

if TYPE_CHECKING:
    from evidence.base_synth import Base
    from stack.config import StackConfig

# The user property an integration test's report carries: what the test proves (the first
# paragraph of its docstring), for the session summary and the evidence bundle.
PROVES_PROPERTY = "proves"


@dataclass(frozen=True)
class DeploymentSummary:
    """The deployment this run made or tested, as the harness recorded it."""
    target: Target
    suffix: str
    region: str
    status: Status
    # The non-sensitive outputs the harness read back; None if it recorded none.
    public_outputs: dict[str, Any] | None


@pytest.hookspec(firstresult=True)
def pytest_stack_synthesize(stack_config: StackConfig, outdir: Path) -> Path:
    """Write the Terraform JSON for ``stack_config`` under ``outdir`` and return its path.

    The default synthesizes the platform (stack.synthesis.synth). The harness's own component tests
    implement it to deploy a tiny Terraform JSON config through the same machinery.
    """
    raise NotImplementedError  # a hookspec's body never runs


@pytest.hookspec(firstresult=True)
def pytest_stack_synthesize_base(stack_config: StackConfig, outdir: Path, base: Base) -> Path:
    """With ``--stack-upgrade-from REF``: write the base release's stack folder for
    ``stack_config`` under ``outdir`` and return its Terraform JSON's path.

    ``base`` is REF resolved (``base.ref``, ``base.commit``). The default synthesizes that
    commit with its own code in a git worktree (harness.upgrade.synthesize_base). The
    harness's own component tests implement it to deploy a tiny base config.
    """
    raise NotImplementedError  # a hookspec's body never runs


@pytest.hookspec(firstresult=True)
def pytest_stack_deployment_summary(config: pytest.Config) -> DeploymentSummary | None:
    """The deployment this run made (or tested with --reuse-stack); None if there was none.

    Implemented by harness.plugin; raises harness.record.RecordError if the record is damaged.
    Call it only where the harness plugin is loaded: ``hasattr(config.hook, name)``.
    """
    raise NotImplementedError  # a hookspec's body never runs
