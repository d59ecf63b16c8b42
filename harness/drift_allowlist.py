"""The reviewed allow-list of moto-fidelity drifts (``harness/drift_allowlist.yaml``).

In the sandbox a second plan right after the apply shows changes that are moto's, not the
stack's (an attribute moto does not store, or returns in another shape). Each is accepted
here by resource type and attribute path, with why, who reviewed it and until when; an
expired entry fails the run, so every waiver is looked at again. On ``aws`` nothing is
waived: any change after the apply fails the run.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.drift import WHOLE, Change, schema_path
from harness.errors import HarnessError

ALLOWLIST_FILE = Path(__file__).with_name("drift_allowlist.yaml")


class DriftAllowListError(HarnessError):
    """The allow-list cannot be used: not valid, or an entry has expired."""


class DriftAllowance(BaseModel):
    """One accepted moto drift: ``attribute`` is a dotted path, matching itself and below it."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    resource_type: str = Field(min_length=1)
    attribute: str = Field(min_length=1)
    why: str = Field(min_length=10)
    reviewer: str = Field(min_length=1)
    expires: datetime.date

    def matches(self, change: Change) -> bool:
        if change.resource_type != self.resource_type:
            return False
        path = schema_path(change.attribute)
        return self.attribute in (WHOLE, path) or path.startswith(self.attribute + ".")


class DriftAllowList(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allowances: tuple[DriftAllowance, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """The plan's changes split into the waived ones and the ones that fail the run."""
    allowed: tuple[Change, ...]
    unexpected: tuple[Change, ...]
    unused: tuple[DriftAllowance, ...]


def load_allowlist(path: Path = ALLOWLIST_FILE,
                   today: datetime.date | None = None) -> DriftAllowList:
    """The allow-list; DriftAllowListError if it is not valid or any entry has expired."""
    try:
        allow = DriftAllowList.model_validate(yaml.safe_load(path.read_text()) or {})
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise DriftAllowListError(f"{path}: not a valid drift allow-list ({exc}). Each entry "
                                  "needs resource_type, attribute, why, reviewer, expires "
                                  "(YYYY-MM-DD)") from None
    day = today or datetime.date.today()
    expired = [a for a in allow.allowances if a.expires < day]
    if expired:
        raise DriftAllowListError(
            f"{path}: {len(expired)} drift allowance(s) expired: "
            + "; ".join(f"{a.resource_type} {a.attribute} (expired {a.expires})" for a in expired)
            + ". Check whether moto still drifts there (plan right after an apply), then "
            "renew the entry with a new reviewer and date, or delete it")
    return allow


def judge(changes: Iterable[Change], allow: DriftAllowList | None) -> Verdict:
    """Splits ``changes``; ``allow`` None (the aws target) waives nothing."""
    allowances = allow.allowances if allow is not None else ()
    allowed: list[Change] = []
    unexpected: list[Change] = []
    used: set[DriftAllowance] = set()
    for change in changes:
        hit = next((a for a in allowances if a.matches(change)), None)
        if hit is None:
            unexpected.append(change)
        else:
            allowed.append(change)
            used.add(hit)
    return Verdict(tuple(allowed), tuple(unexpected),
                   tuple(a for a in allowances if a not in used))
