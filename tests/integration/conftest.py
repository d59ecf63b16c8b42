"""Shared helpers for the integration tests (the ``stack`` fixture comes from harness.plugin)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from harness.aws_clients import AwsClients
from harness.deployed import DeployedStack
from stack.config import StackConfig
from stack.naming import Naming


def state_resources(stack: DeployedStack, rtype: str | None = None) -> list[dict[str, Any]]:
    """Managed resources as Terraform recorded them after the apply (attributes read back
    from the target's API by the provider)."""
    state = json.loads(stack.workdir.state_file.read_text())
    out = []
    for r in state.get("resources", []):
        if r.get("mode") != "managed" or (rtype and r["type"] != rtype):
            continue
        for inst in r.get("instances", []):
            out.append({"address": f"{r['type']}.{r['name']}", "type": r["type"],
                        "attributes": inst["attributes"]})
    return out


@pytest.fixture(scope="session")
def clients(stack: DeployedStack) -> AwsClients:
    return stack.clients


@pytest.fixture(scope="session")
def names(stack: DeployedStack) -> Naming:
    """The stack's own naming rules for the deployed suffix/environment."""
    return Naming(stack.outputs.environment, stack.suffix)


@pytest.fixture(scope="session")
def deployed_config(stack: DeployedStack) -> StackConfig:
    """The StackConfig the stack was synthesized from (as recorded in the workdir)."""
    return stack.config
