"""After every destroy, on every target: the inventory, and what it means for the run.

The destroy is verified, not assumed: ``harness.sweep.leftovers`` lists what still carries
the suffix (sandbox and aws alike), also after a destroy that failed, timed out or was
skipped because no tfstate was there. The summary may say "nothing carrying the suffix
remains" only when this check ran and was clean (every listing answered, none found anything).
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.aws_clients import AwsClients
from harness.progress import Progress
from harness.sweep import LeftoverCheck, leftovers

NOTHING_REMAINS = "nothing carrying the suffix remains"


@dataclass(frozen=True)
class DestroyCheck:
    """What the inventory after a destroy found; ``check`` None: it could not run at all."""
    check: LeftoverCheck | None
    why_not_checked: str = ""

    @property
    def verified_clean(self) -> bool:
        return self.check is not None and self.check.clean

    def summary_line(self) -> str:
        """The one line the terminal summary gives for the destroy."""
        if self.check is None:
            return f"destroyed; NOT verified: {self.why_not_checked}"
        if self.check.clean:
            return f"destroyed; {NOTHING_REMAINS} (inventory checked)"
        if self.check.leftovers:
            return f"destroy left {len(self.check.leftovers)} resource(s) carrying the suffix"
        return (f"destroyed; NOT fully verified: {len(self.check.unchecked)} listing(s) could "
                "not be checked")

    def lines(self) -> list[str]:
        return self.check.lines() if self.check is not None else []

    def failure(self) -> str:
        """The leftovers, each with the command that sweeps it ("" when there are none)."""
        if self.check is None or not self.check.leftovers:
            return ""
        return (f"these still carry the suffix {self.check.suffix} after the destroy; "
                "remove each with the command shown:\n"
                + "\n".join(f"  {x.line()}" for x in self.check.leftovers))


def verify_destroy(clients: AwsClients, suffix: str, progress: Progress) -> DestroyCheck:
    """Runs the inventory; an inventory that cannot run at all is reported, never 'clean'."""
    try:
        with progress.step("leftover-check"):
            check = leftovers(clients, suffix)
    except Exception as exc:  # noqa: BLE001 - any failure means "not verified", said as such
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        progress.say(f"leftover check could not run: {first}")
        return DestroyCheck(None, f"the leftover check could not run ({first}); list what is "
                            f"left with python -m harness.sweep --suffix {suffix}")
    for line in check.lines():
        progress.say(f"leftover check: {line}")
    return DestroyCheck(check)
