"""After a destroy: what the inventory still finds carrying the run's suffix.

The leftover check is the sweeper's own finder (``Sweep.find``), so there is one list of
what a run can leave and one place that decides what is already gone (keys pending deletion,
secrets scheduled for deletion, terminated instances, deleted NAT gateways: the finders).
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass

from harness.aws_clients import AwsClients
from harness.sweep.core import Found, Sweep


@dataclass(frozen=True)
class Leftover:
    found: Found
    command: str        # the sweep command line that removes it

    def line(self) -> str:
        return f"{self.found.line()}  -> {self.command}"


@dataclass(frozen=True)
class LeftoverCheck:
    suffix: str
    leftovers: tuple[Leftover, ...]
    unchecked: tuple[str, ...]    # listings that failed: nothing is known about them

    @property
    def clean(self) -> bool:
        """The only case in which a summary may say that nothing carrying the suffix remains:
        every listing answered and none found anything."""
        return not self.leftovers and not self.unchecked

    def lines(self) -> list[str]:
        return ([f"LEFTOVER {x.line()}" for x in self.leftovers]
                + [f"unchecked {u}" for u in self.unchecked])


def sweep_command(clients: AwsClients, suffix: str) -> str:
    """The command line that deletes what carries ``suffix`` on the target of ``clients``."""
    args = ["python", "-m", "harness.sweep", "--suffix", suffix]
    if clients.endpoint:
        args += ["--endpoint", clients.endpoint]
    else:
        args += ["--target", "aws", "--region", clients.region, "--stack-config=FILE"]
    return shlex.join(args + ["--delete"])


def leftovers(clients: AwsClients, suffix: str) -> LeftoverCheck:
    """Run the inventory for ``suffix``; every resource it finds is a leftover."""
    sweep = Sweep(clients, suffix, log=lambda _line: None)
    found = sweep.find()
    command = sweep_command(clients, suffix)
    return LeftoverCheck(suffix, tuple(Leftover(f, command) for f in found),
                         tuple(sweep.unchecked))
