"""Per-test outcomes -> per-requirement status. Pure functions, no pytest.

Status of a requirement in one run:
  met        at least one of its tests passed and none failed
  failed     some of its tests passed, at least one failed: the evidence contradicts itself
  live-only  every test naming it is marked live (needs real AWS) and none passed here
  gap        no passing test: none names it, they failed, were skipped or were not run
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from evidence.catalogue import Catalogue, sort_key

PASSING = {"passed"}
FAILING = {"failed", "error"}
STATUS_ORDER = ("gap", "failed", "live-only", "met")


@dataclass
class TestRecord:
    nodeid: str
    controls: list[str] = field(default_factory=list)
    live: bool = False
    outcome: str = "not-run"   # passed, failed, error, skipped, xfailed, xpassed, deselected, not-run
    reason: str = ""           # skip reason or the first line of the failure
    duration: float = 0.0
    facts: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""          # failure text for the JUnit file (redacted when written)
    claim: str = ""            # what the test says it proves, where the harness records it


def requirement_rows(catalogue: Catalogue, tests: dict[str, TestRecord]) -> list[dict[str, Any]]:
    by_req: dict[str, list[TestRecord]] = {rid: [] for rid in catalogue.requirements}
    for rec in tests.values():
        for rid in rec.controls:
            by_req.setdefault(rid, []).append(rec)
    rows = []
    for req in catalogue.ordered():
        recs = sorted(by_req[req.id], key=lambda r: r.nodeid)
        status, why = _status(recs)
        rows.append({"id": req.id, "title": req.title, "area": req.area, "status": status,
                     "why": why, "notes": req.notes,
                     "tests": [{"nodeid": r.nodeid, "outcome": r.outcome, "live": r.live,
                                **({"reason": r.reason} if r.reason else {}),
                                **({"claim": r.claim} if r.claim else {}),
                                "facts": r.facts} for r in recs]})
    return rows


def _status(recs: list[TestRecord]) -> tuple[str, str]:
    if not recs:
        return "gap", "no test names this requirement"
    passed = [r for r in recs if r.outcome in PASSING]
    failed = [r for r in recs if r.outcome in FAILING]
    if passed and failed:
        return "failed", f"{len(failed)} of its {len(recs)} tests failed"
    if passed:
        return "met", f"{len(passed)} passing test(s)"
    if all(r.live for r in recs):
        return "live-only", "its only tests need a real AWS account (marked live) and did not run here"
    if failed:
        return "gap", f"no passing test: {len(failed)} failed"
    counts: dict[str, int] = {}
    for r in recs:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return "gap", "no passing test: " + ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))


def table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reproducible part: id, status and each test's outcome (no times, no facts)."""
    return [{"id": r["id"], "status": r["status"],
             "tests": [[t["nodeid"], t["outcome"]] for t in r["tests"]]} for r in rows]


def table_digest(rows: list[dict[str, Any]]) -> str:
    canonical = json.dumps(table(rows), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    out = {s: 0 for s in STATUS_ORDER}
    for r in rows:
        out[r["status"]] += 1
    return out


def gaps_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (STATUS_ORDER.index(r["status"]), sort_key(r["id"])))
