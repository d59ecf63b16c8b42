"""Hook the harness offers to conftest files."""
from pathlib import Path

import pytest


@pytest.hookspec(firstresult=True)
def pytest_stack_synthesize(stack_config, outdir: Path) -> Path:
    """Write the Terraform JSON for ``stack_config`` under ``outdir`` and return its path.

    The default synthesizes the platform (stack.synthesis.synth). The harness's own component tests
    implement it to deploy a tiny Terraform JSON config through the same machinery.
    """
