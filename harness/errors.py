"""What the harness raises: every message says what happened and what to do next."""
from __future__ import annotations


class HarnessError(RuntimeError):
    """Anything the harness refuses or fails to do; the message says what to do next."""


class DeployError(HarnessError):
    pass


class DestroyError(HarnessError):
    pass
