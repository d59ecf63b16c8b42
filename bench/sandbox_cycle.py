"""Sandbox cycle speed against its floor, measured in one run on one machine.

    python bench/sandbox_cycle.py [--only floor|integration] [--workers 0,2,4]
                                  [--floor default,harness] [--step-timeout 1200]

Floor: the synthesized sandbox JSON applied and destroyed by raw terraform, nothing else:
a moto server this script starts on a free 127.0.0.1 port (AWS managed IAM policies
loaded), a self-signed certificate imported into its ACM, one synth, then `terraform init`
(offline mirror), `terraform apply -auto-approve`, `terraform destroy -auto-approve`, once
per variant: `default` (terraform's own settings), `harness` (the extra flags the harness
passes in the sandbox: harness.terraform.SANDBOX_DESTROY_FLAGS), `pN` (-parallelism=N),
`gcN` (the harness's flags with GOGC=N instead of harness.terraform.GO_GC_PERCENT).

Then `pytest -m integration -p no:cacheprovider -n N` for each N (the plugin starts its own
moto), each timed, each with its own --stack-workdir so the deploy/destroy counts read from
events.jsonl are this run's alone (must be 1/1 whatever N is).

Prints a Markdown table: wall seconds and ratios to the floor (goal: -n 0 <= 1.2 x floor),
and writes it into its section of bench/RESULTS.md (bench/results.py) when every step
finished (an interrupted or failed run leaves the last complete tables there).
Absolute seconds on a shared machine are noise; the ratios are the result. Everything runs
on loopback; servers are stopped and deployments destroyed even on Ctrl-C (try/finally).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import machine, results  # noqa: E402
from harness import certs, mirror, sandbox  # noqa: E402
from harness import terraform as harness_terraform  # noqa: E402
from harness.aws_clients import AwsClients  # noqa: E402
from harness.options import Options  # noqa: E402
from harness.record import RecordError, Status, read_record  # noqa: E402
from harness.run_config import planned_config, sandbox_config  # noqa: E402
from harness.plugin_options import random_suffix  # noqa: E402
from stack.synthesis.synth import child_env, synthesize  # noqa: E402

# The extra flags the harness gives terraform in the sandbox (none before they existed).
HARNESS_DESTROY_FLAGS = tuple(getattr(harness_terraform, "SANDBOX_DESTROY_FLAGS", ()))
GOAL_RATIO = 1.2  # issue #8: `pytest -m integration -n 0` within 1.2x the floor


def keep_logs_and_remove(tmp: Path, keep_logs: str | None) -> None:
    """Copy the run's logs (no provider binaries, state or plans: harness.workdir.is_plan)
    to ``keep_logs``, if given, then remove the run's folder."""
    if keep_logs:
        shutil.copytree(tmp, keep_logs, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*tfplan"))
    shutil.rmtree(tmp, ignore_errors=True)


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


class StepTimeout(RuntimeError):
    pass


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_bounded(label: str, cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path,
                timeout: float, tail: Path | None = None) -> float:
    """Run ``cmd`` in its own session (so a terminal Ctrl-C reaches only us), output to
    ``log``; a heartbeat every 30 s (new lines of ``tail``'s progress logs, if given).
    On timeout or Ctrl-C: one SIGINT (terraform saves its state, the plugin destroys),
    a bounded wait, then SIGKILL. Returns wall seconds; raises on a non-zero exit."""
    say(f"{label}: {shlex.join(cmd)}  (log {log})")
    started = time.monotonic()
    with open(log, "w") as fh:
        # SIGINT back to its default: started from a background shell (`nohup ... &`) we
        # inherit it ignored, and the one SIGINT below would then never stop anything.
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True,
                                preexec_fn=_default_sigint)
        stop = threading.Event()
        follower = threading.Thread(target=_follow, args=(label, tail, started, stop), daemon=True)
        follower.start()
        try:
            proc.wait(timeout=timeout)
        except BaseException as exc:
            why = (f"timed out after {timeout:.0f}s" if isinstance(exc, subprocess.TimeoutExpired)
                   else "interrupted")
            say(f"{label}: {why}; sending one SIGINT and waiting for it to clean up")
            _interrupt(proc, grace=900)
            if isinstance(exc, subprocess.TimeoutExpired):
                raise StepTimeout(f"{label} did not finish within {timeout:.0f}s; log {log}") from None
            raise
        finally:
            stop.set()
            follower.join(timeout=5)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{label} failed (exit {proc.returncode}) after {elapsed:.0f}s; "
                           f"log {log}:\n{_last_lines(log)}")
    say(f"{label}: {elapsed:.1f}s")
    return elapsed


def _interrupt(proc: subprocess.Popen, grace: float) -> None:
    if proc.poll() is not None:
        return
    previous = signal.signal(signal.SIGINT, lambda *a: say("cleanup in progress; please wait"))
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
    finally:
        signal.signal(signal.SIGINT, previous)


def _follow(label: str, tail: Path | None, started: float, stop: threading.Event) -> None:
    seen: dict[Path, int] = {}
    while not stop.wait(30):
        lines: list[str] = []
        if tail is not None:
            for path in sorted(tail.glob("*/progress.log")):
                text = path.read_text(errors="replace").splitlines()
                lines += text[seen.get(path, 0):]
                seen[path] = len(text)
        say(f"{label}: running {time.monotonic() - started:.0f}s"
            + ("".join(f"\n    {line}" for line in lines[-6:]) if lines else ""))


def _last_lines(path: Path, n: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


# ------------------------------------------------------------------ floor
def resources_in(state: Path) -> list[str]:
    if not state.is_file():
        return []
    data = json.loads(state.read_text() or "{}")
    return [r["type"] for r in data.get("resources", []) if r.get("mode") == "managed" and r.get("instances")]


@dataclass
class FloorCycle:
    variant: str
    apply_flags: tuple[str, ...] = ()
    destroy_flags: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    apply: float = 0.0
    destroy: float = 0.0

    @property
    def total(self) -> float:
        return self.apply + self.destroy

    @classmethod
    def parse(cls, variant: str) -> FloorCycle:
        if variant == "default":
            return cls(variant)
        if variant == "harness":
            return cls(variant, (), HARNESS_DESTROY_FLAGS)
        if variant.startswith("p") and variant[1:].isdigit():
            return cls(variant, (f"-parallelism={variant[1:]}",), (f"-parallelism={variant[1:]}",))
        if variant.startswith("gc") and variant[2:].isdigit():
            return cls(variant, (), HARNESS_DESTROY_FLAGS, {"GOGC": variant[2:]})
        raise SystemExit(f"--floor {variant}: use default, harness, pN (-parallelism=N) or gcN (GOGC=N)")


@dataclass
class Floor:
    synth: float = 0.0
    init: float = 0.0
    resources: int = 0
    cycles: list[FloorCycle] = field(default_factory=list)


def measure_floor(tmp: Path, variants: list[FloorCycle], timeout: float) -> Floor:
    result = Floor()
    work = tmp / "floor"
    tf_dir = work / "tf"
    work.mkdir(parents=True)
    say("floor: starting a moto server (MOTO_IAM_LOAD_MANAGED_POLICIES=true) on 127.0.0.1")
    endpoint, pid = sandbox.start(work / "moto.log")
    state = tf_dir / "terraform.tfstate"
    env: dict[str, str] = {}
    try:
        say(f"floor: moto on {endpoint} (pid {pid})")
        opts = Options(target="sandbox", suffix=random_suffix())
        cfg = planned_config(opts)
        acm = AwsClients(cfg.region, endpoint=endpoint).acm
        arn = certs.import_self_signed(acm, opts.suffix, cfg.tags)
        cfg = sandbox_config(cfg, opts, endpoint, arn)
        say(f"floor: synthesizing suffix {opts.suffix} once")
        started = time.monotonic()
        stack_json = synthesize(cfg, work / "synth")
        result.synth = time.monotonic() - started
        shutil.copytree(stack_json.parent, tf_dir)  # the JSON refers to its assets relatively
        cli_config = mirror.write_cli_config(tf_dir / "terraform.rc", mirror.require_mirror())
        env = harness_terraform.terraform_env(cli_config, cfg.region, endpoint)
        tf = harness_terraform.terraform_binary()
        result.init = run_bounded("floor: terraform init", [tf, "init", "-input=false", "-no-color"],
                                  cwd=tf_dir, env=env, log=work / "init.log", timeout=timeout)
        for cycle in variants:
            apply = [tf, "apply", "-input=false", "-no-color", "-auto-approve", *cycle.apply_flags]
            destroy = [tf, "destroy", "-input=false", "-no-color", "-auto-approve", *cycle.destroy_flags]
            cycle_env = {**env, **cycle.env}
            cycle.apply = run_bounded(f"floor {cycle.variant}: terraform apply", apply, cwd=tf_dir,
                                      env=cycle_env, log=work / f"apply-{cycle.variant}.log", timeout=timeout)
            result.resources = len(resources_in(state))
            cycle.destroy = run_bounded(f"floor {cycle.variant}: terraform destroy", destroy, cwd=tf_dir,
                                        env=cycle_env, log=work / f"destroy-{cycle.variant}.log",
                                        timeout=timeout)
            result.cycles.append(cycle)
            say(f"floor {cycle.variant}: apply {cycle.apply:.1f}s + destroy {cycle.destroy:.1f}s "
                f"= {cycle.total:.1f}s ({result.resources} resources)")
    finally:
        previous = signal.signal(signal.SIGINT, lambda *a: say("cleanup in progress; please wait"))
        try:
            if env and state.is_file() and resources_in(state):
                say("floor: cleaning up: terraform destroy of what is left")
                subprocess.run([harness_terraform.terraform_binary(), "destroy", "-input=false",
                                "-no-color", "-auto-approve"], cwd=tf_dir, env=env,
                               stdout=open(work / "cleanup-destroy.log", "w"),
                               stderr=subprocess.STDOUT, timeout=timeout, start_new_session=True)
        finally:
            sandbox.stop(pid)
            say(f"floor: moto (pid {pid}) stopped")
            signal.signal(signal.SIGINT, previous)
    return result


# ------------------------------------------------------------------ integration runs
@dataclass
class PytestRun:
    workers: int
    wall: float = 0.0
    deploys: int = 0
    destroys: int = 0
    failed_events: int = 0
    steps: dict[str, float] = field(default_factory=dict)
    error: str = ""


def measure_integration(tmp: Path, workers: int, pytest_args: str, timeout: float) -> PytestRun:
    run = PytestRun(workers)
    workdir_root = tmp / f"integration-n{workers}"
    workdir_root.mkdir(parents=True)
    cmd = [sys.executable, "-m", "pytest", *shlex.split(pytest_args), "-n", str(workers),
           f"--stack-workdir={workdir_root}"]
    env = child_env()
    for key in ("CI", "EVIDENCE_DIR"):  # the bench measures the deploy cycle, not a CI bundle
        env.pop(key, None)
    try:
        run.wall = run_bounded(f"pytest -n {workers}", cmd, cwd=ROOT, env=env,
                               log=tmp / f"pytest-n{workers}.log", timeout=timeout, tail=workdir_root)
    except (RuntimeError, StepTimeout) as exc:
        run.error = str(exc).splitlines()[0]
        say(str(exc))
    finally:
        _destroy_leftover_runs(workdir_root, timeout)
    for events in workdir_root.glob("*/events.jsonl"):
        for line in events.read_text().splitlines():
            name = json.loads(line)["event"]
            run.deploys += name == "deploy-done"
            run.destroys += name == "destroy-done"
            run.failed_events += name.endswith("-failed")
    for timings in workdir_root.glob("*/timings.jsonl"):
        for line in timings.read_text().splitlines():
            t = json.loads(line)
            if t["step"] != "output":
                run.steps[t["step"]] = run.steps.get(t["step"], 0.0) + t["seconds"]
    return run


def _destroy_leftover_runs(workdir_root: Path, timeout: float) -> None:
    """A pytest that was killed may have left a deployment: the plugin's own --destroy-stack."""
    for path in workdir_root.glob("*/deployment.json"):
        try:
            record = read_record(path)
        except RecordError as exc:  # --destroy-stack below reports it; never skipped
            say(f"cleanup: {exc}")
            record = None
        if record is not None and record.status is Status.DESTROYED:
            continue
        suffix = path.parent.name
        status = record.status if record is not None else "unreadable"
        say(f"cleanup: suffix {suffix} is {status}: pytest --destroy-stack {suffix}")
        previous = signal.signal(signal.SIGINT, lambda *a: say("cleanup in progress; please wait"))
        try:
            subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                            f"--destroy-stack={suffix}", f"--stack-workdir={workdir_root}"],
                           cwd=ROOT, env=child_env(), timeout=timeout, start_new_session=True)
        finally:
            signal.signal(signal.SIGINT, previous)


# ------------------------------------------------------------------ report
def report(floor: Floor | None, runs: list[PytestRun], load: str, pytest_args: str) -> str:
    """This run's Markdown tables under the machine line: main() prints and records them."""
    lines: list[str] = []
    out = lines.append
    out(f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {machine.describe()} "
        f"(load average at start {load}, 1/5/15 min); terraform {harness_terraform.version()}; "
        f"harness's sandbox destroy flags: {' '.join(HARNESS_DESTROY_FLAGS) or '(none)'}: "
        f"`{results.invocation()}`")
    out("")
    floor_default = floor_harness = None
    if floor and floor.cycles:
        by_variant = {c.variant: c for c in floor.cycles}
        floor_default = by_variant.get("default", floor.cycles[0])
        floor_harness = by_variant.get("harness", floor_default)
        out(f"| floor: raw terraform on the same JSON, {floor.resources} resources, one moto "
            f"| apply s | destroy s | apply+destroy s | ratio to `{floor_default.variant}` |")
        out("|---|---|---|---|---|")
        for c in floor.cycles:
            flags = ", ".join("`" + " ".join([verb, "-auto-approve", *extra]) + "`"
                              for verb, extra in (("apply", c.apply_flags), ("destroy", c.destroy_flags)))
            out(f"| `{c.variant}`: {flags} | {c.apply:.1f} "
                f"| {c.destroy:.1f} | {c.total:.1f} | {c.total / floor_default.total:.2f} |")
        out(f"\n(not in the floor: synth {floor.synth:.1f} s, terraform init {floor.init:.1f} s)\n")
    if runs:
        ref = f"floor `{floor_harness.variant}`" if floor_harness else "floor"
        out(f"| `pytest {pytest_args} -n N` | wall s | ratio to {ref} | goal "
            f"| deploys/destroys | synth s | apply s | idempotency plan + show s "
            f"| destroy + leftover check s | rest s |")
        out("|---|---|---|---|---|---|---|---|---|---|")
        for r in runs:
            ratio = f"{r.wall / floor_harness.total:.2f}" if floor_harness and r.wall else "-"
            goal = ""
            if r.workers == 0 and not (floor_harness and r.wall):
                goal = f"<= {GOAL_RATIO}: no floor measured"
            elif r.workers == 0:
                goal = f"<= {GOAL_RATIO}: {'met' if r.wall <= GOAL_RATIO * floor_harness.total else 'not met'}"
            steps = r.steps
            idempotency = steps.get("idempotency-plan", 0.0) + steps.get("show", 0.0)
            destroy = steps.get("destroy", 0.0) + steps.get("leftover-check", 0.0)
            known = steps.get("synth", 0.0) + steps.get("apply", 0.0) + idempotency + destroy
            out(f"| -n {r.workers} | {r.wall:.1f} | {ratio} | {goal} | {r.deploys}/{r.destroys}"
                f"{' (MUST be 1/1)' if (r.deploys, r.destroys) != (1, 1) else ''}"
                f"{f', {r.failed_events} failed' if r.failed_events else ''} "
                f"| {steps.get('synth', 0):.1f} | {steps.get('apply', 0):.1f} "
                f"| {idempotency:.1f} | {destroy:.1f} | {max(0.0, r.wall - known):.1f} |"
                + (f" ERROR: {r.error}" if r.error else ""))
        if floor_default and floor_harness is not floor_default:
            out(f"\nRatios to the `{floor_default.variant}` floor ("
                f"{floor_default.total:.1f} s): "
                + ", ".join(f"-n {r.workers} {r.wall / floor_default.total:.2f}" for r in runs if r.wall))
        out("\n(rest = pytest start, collection, moto start, cert import, terraform init, "
            "outputs, the tests themselves, moto stop)")
    return "\n".join(lines)


def _sigterm(signum, frame):
    raise KeyboardInterrupt("SIGTERM")  # the same orderly cleanup as Ctrl-C


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("floor", "integration"))
    parser.add_argument("--workers", default="0,2,4", help="pytest-xdist -n values (default 0,2,4)")
    parser.add_argument("--floor", default=None,
                        help="floor variants, comma-separated: default (terraform's settings), "
                             "harness (the harness's sandbox flags), pN (-parallelism=N), "
                             "gcN (harness flags, GOGC=N); "
                             "default: default,harness (just default when the harness adds none)")
    parser.add_argument("--step-timeout", type=float, default=1200,
                        help="hard bound in seconds for each terraform call and each pytest run")
    parser.add_argument("--pytest-args", default="-m integration -p no:cacheprovider")
    parser.add_argument("--keep-logs", metavar="DIR", help="copy every log here at the end")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    names = (args.floor.split(",") if args.floor
             else ["default", "harness"] if HARNESS_DESTROY_FLAGS else ["default"])
    variants = [FloorCycle.parse(v.strip()) for v in names if v.strip()]
    load = machine.load()
    signal.signal(signal.SIGTERM, _sigterm)
    floor: Floor | None = None
    runs: list[PytestRun] = []
    tmp = Path(tempfile.mkdtemp(prefix="sandbox-cycle-"))
    say(f"logs and workdirs in {tmp}")
    interrupted = False
    try:
        if args.only != "integration":
            floor = measure_floor(tmp, variants, args.step_timeout)
        if args.only != "floor":
            for n in workers:
                runs.append(measure_integration(tmp, n, args.pytest_args, args.step_timeout))
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: cleaned up; partial results follow")
    finally:
        keep_logs_and_remove(tmp, args.keep_logs)
    tables = report(floor, runs, load, args.pytest_args)
    print("\n" + tables)
    bad = [r for r in runs if r.error or (r.deploys, r.destroys) != (1, 1)]
    if interrupted or bad:
        say(f"not written to {results.RESULTS.relative_to(ROOT)}: "
            f"{'interrupted' if interrupted else 'a run failed'}; the last complete tables stay")
    else:
        say(f"tables written to {results.record('sandbox_cycle', 'Sandbox cycle', tables).relative_to(ROOT)}")
    return 130 if interrupted else 1 if bad else 0  # partial results are not a pass


if __name__ == "__main__":
    sys.exit(main())
