"""Unit-suite speed against its floor, measured in one run on one machine.

    python bench/unit_suite.py [--pytest-args "-m unit"]

Floor: one bare synth of the app (child process, one config, no cache), as the app does it
(the lean provider import of stack/synthesis/bindings.py), and once more with the package's own
import (STACK_FULL_PROVIDER_IMPORT=1: what a synth cost before, same JSON). Then:
  cold  = `pytest -m unit` with every cache off (what a fresh CI clone pays)
  cold without terraform = the same with terraform validate and the policy gate deselected:
          what the suite costs before any terraform runs, i.e. how much of the 1.5x budget
          the synth and the JSON assertions leave for them
  warm  = `pytest -m unit` again with nothing changed (synth cache and validate verdicts hit),
          three times: the median is reported (a 3 s run swings by +-0.5 s here); the
          floor and the cold run are medians of three too (+-1 s, +-2 s)
Prints seconds and the ratios against the goals (cold <= 1.5 x floor, warm < 3 s), and writes
the table into its section of bench/RESULTS.md (bench/results.py).
Absolute seconds on a shared machine are noise; the ratios are the result.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import machine, results  # noqa: E402
from stack.config import StackConfig, TlsSettings, config_to_mapping  # noqa: E402
from stack.synthesis.synth import child_env  # noqa: E402

# The unit tests that run terraform (validate; the gate's plan, show and checkov scan).
TERRAFORM_TESTS = ("tests/unit/test_terraform_validate.py", "tests/unit/test_policy_gate.py")
CERT = "arn:aws:acm:us-east-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"


def timed(label: str, cmd: list[str], env: dict[str, str]) -> float:
    print(f"[bench] {label}: {' '.join(shlex.quote(c) for c in cmd)}", flush=True)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        sys.exit(f"[bench] {label} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    print(f"[bench] {label}: {elapsed:.1f}s", flush=True)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pytest-args", default="-m unit -q -p no:cacheprovider")
    args = parser.parse_args()
    env = child_env()
    started_on, load = machine.describe(), machine.load()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = StackConfig(environment_suffix="bench1", tls=TlsSettings(
            certificate_arn=CERT, origin_domain_name="origin.example.com"))
        config_file = Path(tmp) / "config.json"
        config_file.write_text(json.dumps(config_to_mapping(cfg)))
        synth = [sys.executable, "-m", "stack.cli", "--config", str(config_file), "--outdir"]
        floors = sorted(timed(f"bare synth {i}/3", [*synth, str(Path(tmp) / f"out{i}")], env)
                        for i in (1, 2, 3))
        floor = floors[1]
        full = timed("bare synth, full provider import", [*synth, str(Path(tmp) / "out-full")],
                     {**env, "STACK_FULL_PROVIDER_IMPORT": "1"})
        cache = Path(tmp) / "cache"
        pytest = [sys.executable, "-m", "pytest", *shlex.split(args.pytest_args)]
        colds = sorted(timed(f"cold unit suite (caches off) {i}/3", pytest,
                             {**env, "STACK_SYNTH_CACHE": "off"}) for i in (1, 2, 3))
        cold = colds[1]
        no_tf = timed("cold unit suite without the terraform tests",
                      [*pytest, *(f"--deselect={t}" for t in TERRAFORM_TESTS)],
                      {**env, "STACK_SYNTH_CACHE": "off"})
        timed("populate the cache", pytest, {**env, "STACK_SYNTH_CACHE": str(cache)})
        warms = sorted(timed(f"warm unit suite (nothing changed) {i}/3", pytest,
                             {**env, "STACK_SYNTH_CACHE": str(cache)}) for i in (1, 2, 3))
        warm = warms[1]
    table = [
        (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {started_on} "
         f"(load average {load} at the start): `{results.invocation()}`"),
        "",
        (f"| measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores | seconds "
         "| ratio to one bare synth (floor) | ratio to a full-import synth | goal |"),
        "|---|---|---|---|---|",
        (f"| one bare synth (floor; lean provider import; median of "
         f"{', '.join(f'{f:.1f}' for f in floors)}) | {floor:.1f} | 1.00 | {floor / full:.2f} | |"),
        f"| one bare synth, STACK_FULL_PROVIDER_IMPORT=1 | {full:.1f} | {full / floor:.2f} | 1.00 | |",
        (f"| `pytest {args.pytest_args}`, cold (caches off; median of "
         f"{', '.join(f'{c:.1f}' for c in colds)}) | {cold:.1f} | {cold / floor:.2f} | {cold / full:.2f} "
         f"| <= 1.5 x floor: {'met' if cold <= 1.5 * floor else 'not met'} |"),
        (f"| cold, terraform's tests deselected ({', '.join(t.rsplit('/', 1)[1] for t in TERRAFORM_TESTS)}) "
         f"| {no_tf:.1f} | {no_tf / floor:.2f} | {no_tf / full:.2f} "
         f"| leaves {1.5 * floor - no_tf:.1f} s of the 1.5 x budget for terraform |"),
        (f"| `pytest {args.pytest_args}`, warm (nothing changed; median of {', '.join(f'{w:.1f}' for w in warms)}) "
         f"| {warm:.1f} | {warm / floor:.2f} | {warm / full:.2f} "
         f"| < 3 s: {'met' if warm < 3 else 'not met'} |"),
    ]
    print("\n" + "\n".join(table))
    written = results.record("unit_suite", "Unit suite", "\n".join(table))
    print(f"\n[bench] table written to {written.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
