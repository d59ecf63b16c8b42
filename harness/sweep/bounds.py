"""Every wait of the sweeper, and its bound, declared once (issue #15 item 5).

The probe is what the command line does before it lists anything: one STS
``GetCallerIdentity`` against the sandbox endpoint or the account, so a dead endpoint is
reported within ``PROBE.bound_s`` instead of after every listing has retried. The listing and
delete calls that follow carry ``CALLS``; the delete rounds ``ROUNDS``. The help text and the
docstrings quote these numbers from here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.config import Config

# botocore's standard retry mode sleeps rand(0, 1) * min(2 ** i, 20) s before retry i + 1.
_MAX_BACKOFF_S = 20.0


@dataclass(frozen=True)
class CallBound:
    """One API call: ``attempts`` tries, each ``connect_s`` to connect and ``read_s`` per read."""
    connect_s: float
    read_s: float
    attempts: int

    @property
    def bound_s(self) -> float:
        backoff = sum(min(2.0 ** i, _MAX_BACKOFF_S) for i in range(self.attempts - 1))
        return self.attempts * (self.connect_s + self.read_s) + backoff

    def config(self) -> Config:
        # Here, not at import: the plugin imports the leftover check at every pytest start,
        # and botocore.config costs ~0.17 s there.
        from botocore.config import Config
        return Config(connect_timeout=self.connect_s, read_timeout=self.read_s,
                      retries={"total_max_attempts": self.attempts, "mode": "standard"})

    def describe(self) -> str:
        return (f"{self.attempts} attempts of {self.connect_s:g} s to connect and "
                f"{self.read_s:g} s to read, at most {self.bound_s:g} s")


@dataclass(frozen=True)
class RoundsBound:
    """Delete rounds: what failed (a dependent still going away) is tried again after a pause
    of ``pause_s`` * round number, ``rounds`` times in all."""
    rounds: int
    pause_s: float

    @property
    def pauses_s(self) -> float:
        return sum(self.pause_s * (n + 1) for n in range(self.rounds - 1))

    def describe(self) -> str:
        return f"{self.rounds} rounds with {self.pauses_s:g} s of pauses between them"


# Whether the endpoint or account answers at all: a refused connection ends in well under a
# second, a silent one (nothing but a TCP accept) in bound_s.
PROBE = CallBound(connect_s=2.0, read_s=3.0, attempts=2)
# Each listing or delete call of the command line, once the probe has answered.
CALLS = CallBound(connect_s=3.0, read_s=20.0, attempts=3)
ROUNDS = RoundsBound(rounds=4, pause_s=2.0)
# Listings that hand out a NextMarker themselves (no boto3 paginator): a server that keeps
# answering with a new marker must not hold the sweep for ever.
MAX_PAGES = 1000
