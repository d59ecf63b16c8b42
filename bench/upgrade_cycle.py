"""The deployed upgrade's cost: an upgrade cycle next to a fresh cycle, in one run.

    python bench/upgrade_cycle.py [--base HEAD~1] [--workers 0] [--step-timeout 1800]
                                  [--keep-logs DIR]

Fresh:   `pytest -m integration` (deploy this commit, test, destroy).
Upgrade: `pytest -m integration --stack-upgrade-from BASE` (deploy BASE from its own synth,
         plan this commit on its state, judge the plan, apply, test, destroy).
The upgrade runs first: it is the proof that an upgrade from BASE passes in the sandbox, and a
run cut short still has it. Each run has its own --stack-workdir; its step timings and
deploy/destroy counts are read from there (bench/sandbox_cycle.py measure_integration).

Prints both wall times, the ratio and the steps side by side, and writes the table into its
section of bench/RESULTS.md (bench/results.py) when both runs finished with one deploy and
one destroy each.
"""
from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import machine, results  # noqa: E402
from bench.sandbox_cycle import (PytestRun, keep_logs_and_remove,  # noqa: E402
                                 measure_integration, say)

PYTEST_ARGS = "-m integration -p no:cacheprovider"
BASE_STEPS = ("base-synth", "base-init", "base-apply")
HEAD_STEPS = ("synth", "init", "plan", "plan-show", "apply", "destroy")


def _commit(ref: str) -> str:
    return subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout.strip()


def report(fresh: PytestRun | None, upgrade: PytestRun | None, base: str, load: str,
           workers: int) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
             f"{machine.describe()} (load before: {load}); `{PYTEST_ARGS} -n {workers}`, "
             f"upgrade from `{base}`. Command: `{results.invocation()}`.", "",
             "| cycle | wall s | deploys/destroys | result |", "|---|---|---|---|"]
    for name, run in (("fresh", fresh), ("upgrade", upgrade)):
        if run is not None:
            lines.append(f"| {name} | {run.wall:.0f} | {run.deploys}/{run.destroys} | "
                         f"{run.error or 'passed'} |")
    if fresh and upgrade and fresh.wall and upgrade.wall:
        lines += ["", f"Upgrade / fresh: **{upgrade.wall / fresh.wall:.2f}x** "
                      f"({upgrade.wall - fresh.wall:+.0f} s)."]
    lines += ["", "| step | fresh s | upgrade s |", "|---|---|---|"]
    for step in BASE_STEPS + HEAD_STEPS:
        cells = [f"{run.steps[step]:.1f}" if run is not None and step in run.steps else "-"
                 for run in (fresh, upgrade)]
        lines.append(f"| {step} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def _sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt("SIGTERM")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the release to upgrade from")
    parser.add_argument("--workers", type=int, default=0, help="pytest-xdist -n (default 0)")
    parser.add_argument("--step-timeout", type=float, default=1800,
                        help="hard bound in seconds for each pytest run")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy the pytest logs and workdirs "
                        "(no state, plans or provider) here at the end")
    args = parser.parse_args()
    base = f"{args.base} ({_commit(args.base)[:12]})"
    load = machine.load()
    signal.signal(signal.SIGTERM, _sigterm)
    tmp = Path(tempfile.mkdtemp(prefix="upgrade-cycle-"))
    say(f"logs and workdirs in {tmp}")
    fresh = upgrade = None
    interrupted = False
    try:
        upgrade = measure_integration(tmp / "upgrade", args.workers,
                                      f"{PYTEST_ARGS} --stack-upgrade-from {args.base}",
                                      args.step_timeout)
        fresh = measure_integration(tmp / "fresh", args.workers, PYTEST_ARGS, args.step_timeout)
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: cleaned up; partial results follow")
    finally:
        keep_logs_and_remove(tmp, args.keep_logs)
    table = report(fresh, upgrade, base, load, args.workers)
    print("\n" + table)
    runs = [r for r in (fresh, upgrade) if r is not None]
    bad = len(runs) < 2 or any(r.error or (r.deploys, r.destroys) != (1, 1) for r in runs)
    if interrupted or bad:
        say(f"not written to {results.RESULTS.relative_to(ROOT)}: "
            f"{'interrupted' if interrupted else 'a run failed'}; the last complete table stays")
    else:
        path = results.record("upgrade_cycle", "Upgrade cycle against a fresh cycle", table)
        say(f"table written to {path.relative_to(ROOT)}")
    return 130 if interrupted else 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
