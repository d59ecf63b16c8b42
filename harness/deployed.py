"""What the integration tests get from the ``stack`` fixture: a deployed stack, typed."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from stack.config import StackConfig
from stack.outputs import OutputsError, StackOutputs

from harness.aws_clients import AwsClients, clients_for, sandbox_clients
from harness.errors import HarnessError
from harness.record import Target
from harness.workdir import StackWorkdir


@dataclass
class DeployedStack:
    """Outputs (as they exist), suffix, target, region, the config deployed, and clients.

    ``outputs`` is the platform's output contract (stack.outputs.StackOutputs), checked on
    first use; ``output(name)`` reads any output, for stacks other than the platform (the
    harness's own tests deploy tiny ones).
    """
    suffix: str
    target: Target
    region: str
    endpoint: str | None
    output_values: dict[str, Any]
    workdir: StackWorkdir
    config: StackConfig
    resources: tuple[str, ...] = ()
    clients: AwsClients = field(init=False)

    def __post_init__(self) -> None:
        # A sandbox stack without an endpoint is an error, never clients that reach AWS.
        self.clients = (sandbox_clients(self.region, self.endpoint)
                        if self.target is Target.SANDBOX else clients_for(self.region))

    @property
    def is_sandbox(self) -> bool:
        return self.target is Target.SANDBOX

    def output(self, name: str) -> Any:
        if name not in self.output_values:
            raise KeyError(f"the deployed stack has no output {name!r}; it has: "
                           f"{', '.join(sorted(self.output_values)) or '(none)'} "
                           f"(see {self.workdir.outputs_file})")
        return self.output_values[name]

    @functools.cached_property
    def outputs(self) -> StackOutputs:
        try:
            return StackOutputs.from_terraform(self.output_values)
        except OutputsError as exc:
            raise HarnessError(f"{exc} (the outputs read: {self.workdir.outputs_file})") from None
