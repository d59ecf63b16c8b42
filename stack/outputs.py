"""What the tests and operators read back after a deploy: one place, one name each."""
from __future__ import annotations

from constructs import Construct
from cdktf import TerraformOutput


def publish(scope: Construct, values: dict[str, str]) -> None:
    for name, value in values.items():
        TerraformOutput(scope, name, value=value)
