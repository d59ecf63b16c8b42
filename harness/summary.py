"""The plugin's "platform stack" section at the end of a session: what was deployed, what
the tests proved, each step's time, and whether anything carrying the suffix remains."""
from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from harness.destroy_check import DestroyCheck
from harness.progress import timing_table
from harness.record import Deployment, RecordError, Status
from harness.workdir import Event

if TYPE_CHECKING:
    from harness.plugin import Harness


@dataclass
class Outcome:
    """One test's result, as the summary lists it (what it proves: its docstring's first line)."""
    nodeid: str
    outcome: str
    proves: str
    reason: str = ""


def write(tr: pytest.TerminalReporter, harness: Harness, exitstatus: int) -> None:
    try:
        record = harness.workdir.deployment()
    except RecordError:
        record = None  # sessionfinish has put the error into destroy_error
    this_run = record is not None and record.of_run(harness.run_id)
    if not (harness.outcomes or this_run or harness.opts.reuse or harness.destroy_error):
        return
    tr.write_sep("=", "platform stack")
    if record is not None:
        _write_record(tr, record, harness.opts.suffix)
    _write_outcomes(tr, harness.outcomes.values())
    _write_steps(tr, harness, exitstatus)
    if harness.kept:
        tr.write_line(harness.kept, yellow=True)
    elif harness.destroy_error:
        tr.write_line(harness.destroy_error, red=True, bold=True)
    elif record is not None and this_run and record.status is Status.DESTROYED:
        checked = harness.destroy_check or DestroyCheck(None, "no leftover check ran")
        tr.write_line(checked.summary_line() + "".join(f"\n  {n}" for n in checked.lines()),
                      green=checked.verified_clean, yellow=not checked.verified_clean)


def _write_record(tr: pytest.TerminalReporter, record: Deployment, suffix: str) -> None:
    tr.write_line(f"target {record.target}  suffix {suffix}  region {record.region}"
                  + (f"  endpoint {record.endpoint}" if record.endpoint else ""))
    counts = collections.Counter(r.split(".")[0] for r in record.resources)
    tr.write_line(f"deployed: {len(record.resources)} resources" + (
        " (" + ", ".join(f"{n} {t}" for t, n in sorted(counts.items())) + ")" if counts else ""))
    if not record.status.settled:
        tr.write_line(f"deployment status: {record.status} {record.error}", red=True)


def _write_outcomes(tr: pytest.TerminalReporter, outcomes: Iterable[Outcome]) -> None:
    groups: dict[str, list[Outcome]] = collections.defaultdict(list)
    for o in outcomes:
        groups[o.outcome].append(o)
    for outcome, title in (("passed", "proven"), ("failed", "FAILED"),
                           ("skipped", "not proven here (needs AWS)")):
        if groups[outcome]:
            tr.write_line(f"{title}:", red=outcome == "failed", bold=True)
            for o in groups[outcome]:
                tr.write_line(f"  - {o.proves}" + (f"  [{o.reason}]" if o.reason else "")
                              + ("" if outcome == "passed" else f"  ({o.nodeid})"))


def _write_steps(tr: pytest.TerminalReporter, harness: Harness, exitstatus: int) -> None:
    timings = harness.workdir.timings()
    events = [e for e in harness.workdir.events() if e.get("run_id") == harness.run_id]
    if not timings or not events:
        return
    tr.write_line("steps:", bold=True)
    steps = [t for t in timings if t["at"] >= events[0]["at"] - 1]
    done = [e["at"] for e in events if e["event"] in (Event.DEPLOY_DONE, Event.DEPLOY_FAILED)]
    finish = [e["at"] for e in events if e["event"] == Event.DESTROY_START]
    if done:
        # The tests' wall time: from the deploy being ready to the destroy (or now).
        end = finish[0] if finish else time.time()
        steps.append({"step": "tests (wall)", "seconds": round(end - done[0], 1),
                      "ok": exitstatus == 0, "at": done[0]})
        steps.sort(key=lambda t: t["at"])
    for line in timing_table(steps):
        tr.write_line(line)
