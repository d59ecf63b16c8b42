"""pytest plugin: deploy the platform stack once, prove it with the integration tests, destroy it.

The lifecycle, in one place (the three functions under "deploy -> yield -> destroy" below):

  deploy   the ``stack`` fixture, when the first test that needs it runs, in whichever
           process runs it; a FileLock on the suffix's workdir makes it happen once per run,
           and later callers (other xdist workers) load the recorded deployment instead.
  yield    the tests get a ``DeployedStack`` (outputs, suffix, target, boto3 clients).
  destroy  ``pytest_sessionfinish`` of the process that owns the session: the xdist
           controller (after every worker has finished), or the only process without xdist.
           It destroys whatever the workdir says this run created, even a half-done apply,
           and also runs on Ctrl-C and SIGTERM.

Why not a fixture finalizer: under xdist each worker finalizes its own session fixtures,
so no worker knows it is the last one (pytest-xdist #271, #783, #1045). The controller does.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import secrets
import string
import sys
import time
import uuid
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from evidence.base_synth import Base
from harness import hooks, signals, upgrade
from harness.account_check import AccountCheckError, caller_identity
from harness.deployed import DeployedStack
from harness.deployment import Deployer
from harness.destroy_check import DestroyCheck
from harness.errors import HarnessError
from harness.hooks import PROVES_PROPERTY, DeploymentSummary
from harness.options import Options
from harness.path_checks import directory_problem
from harness.progress import Progress, timing_table
from harness.record import Deployment, RecordError, Status, Target
from harness.remote_state import RemoteStateError, StateLocation, list_lines, workdir_for
from harness.run_tags import DEFAULT_TTL, MAX_TTL_TEXT, MIN_TTL_TEXT, TtlError, expires_at, parse_ttl
from harness.run_config import planned_config
from harness.workdir import Event, StackWorkdir
from stack.config import (StackConfig, config_from_mapping, config_to_mapping, loopback_problem,
                          suffix_problem)

_KEY = pytest.StashKey["Harness"]()
TARGETS = tuple(t.value for t in Target)


# ------------------------------------------------------------------ options
def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("stack", "deploy-and-prove the platform stack (harness.plugin)")
    g.addoption("--stack-target", choices=TARGETS, default=None,
                help="sandbox (default): a moto server on 127.0.0.1 started and stopped by the "
                     "plugin; aws: the caller's credentials, only into allowed_account_ids")
    g.addoption("--sandbox-endpoint", metavar="URL",
                help="use this already running moto server (loopback addresses only)")
    g.addoption("--stack-suffix", metavar="S", help="environment suffix (default: random, valid "
                "for every name limit)")
    g.addoption("--keep-stack", action="store_true",
                help="do not destroy at the end; print how to test and destroy it later")
    g.addoption("--reuse-stack", metavar="S", help="test the existing deployment S; destroy nothing")
    g.addoption("--destroy-stack", metavar="S",
                help="only destroy what an earlier run left for suffix S, then exit")
    g.addoption("--stack-workdir", metavar="DIR", help="per-suffix state, plans, logs, outputs "
                "(default: .stack-work under the rootdir; ini: stack_workdir)")
    g.addoption("--stack-config", metavar="FILE", help="stack config JSON (TLS settings and "
                "allowed_account_ids for --stack-target aws; ini: stack_config; env STACK_CONFIG)")
    g.addoption("--stack-upgrade-from", metavar="REF", help="deploy REF's stack (a tag, branch or "
                "commit, synthesized with its own code) first, then upgrade it to this commit: "
                "the deploy fails if the plan replaces or deletes a resource that holds data "
                "(ini: stack_upgrade_from)")
    g.addoption("--stack-ttl", metavar="DURATION", help="how long the stack may live: its "
                f"ExpiresAt tag, for the expiry sweep ({MIN_TTL_TEXT}..{MAX_TTL_TEXT}, e.g. 90m, "
                f"6h; default {DEFAULT_TTL}; ini: stack_ttl)")
    g.addoption("--stack-state", metavar="URL", help="s3://bucket/prefix: Terraform state and the "
                "deployment record in S3, so any machine can --destroy-stack/--reuse-stack/"
                "--list-stacks (default: local; ini: stack_state; env STACK_STATE)")
    g.addoption("--list-stacks", action="store_true",
                help="list every stack the --stack-state location holds, then exit")
    parser.addini("stack_target", "default --stack-target", default=Target.SANDBOX.value)
    parser.addini("stack_ttl", "default --stack-ttl", default=DEFAULT_TTL)
    parser.addini("stack_state", "default --stack-state", default="")
    parser.addini("stack_workdir", "default --stack-workdir", default=".stack-work")
    parser.addini("stack_config", "default --stack-config", default="")
    parser.addini("stack_upgrade_from", "default --stack-upgrade-from", default="")
    parser.addini("stack_destroy_attempts", "terraform destroy attempts on transient errors",
                  default="3")


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def random_suffix() -> str:
    # A letter first (RDS and S3 names must start with one), 8 characters in all: well
    # inside the 24 the longest name allows with environment "dev".
    alphabet = string.ascii_lowercase + string.digits
    return "t" + "".join(secrets.choice(alphabet) for _ in range(7))


def parse_options(config: pytest.Config) -> Options:
    """Validate the command line before anything is created; UsageError says what to fix."""
    o = config.option
    target = o.stack_target or config.getini("stack_target") or Target.SANDBOX.value
    if target not in TARGETS:
        raise pytest.UsageError(f"stack_target={target!r}: use one of {', '.join(TARGETS)}")
    # "Given but empty" is an error, never "not given": `--destroy-stack "$SUFFIX"` with an
    # unset variable must not turn into a normal run that deploys a new stack.
    for flag, value in (("--stack-suffix", o.stack_suffix), ("--reuse-stack", o.reuse_stack),
                        ("--destroy-stack", o.destroy_stack),
                        ("--sandbox-endpoint", o.sandbox_endpoint),
                        ("--stack-workdir", o.stack_workdir), ("--stack-config", o.stack_config),
                        ("--stack-upgrade-from", o.stack_upgrade_from),
                        ("--stack-ttl", o.stack_ttl), ("--stack-state", o.stack_state)):
        if value is not None and not value.strip():
            raise pytest.UsageError(f"{flag} was given an empty value: pass a value or leave "
                                    "the option out")
    given = [name for name, value in (("--reuse-stack", o.reuse_stack),
                                      ("--destroy-stack", o.destroy_stack),
                                      ("--keep-stack", o.keep_stack)) if value]
    if len(given) > 1:
        raise pytest.UsageError(f"{' and '.join(given)} cannot be combined: choose one")
    named = o.reuse_stack or o.destroy_stack
    if named and o.stack_suffix and o.stack_suffix != named:
        raise pytest.UsageError(f"--stack-suffix {o.stack_suffix} contradicts {given[0]} {named}")
    suffix_flag = given[0] if named else "--stack-suffix"
    # Checked before the name is used as a path under the workdir (no "../x").
    problem = suffix_problem(named or o.stack_suffix) if (named or o.stack_suffix) else None
    if problem:
        raise pytest.UsageError(f"{suffix_flag} {named or o.stack_suffix!r}: {problem}")
    if o.sandbox_endpoint:
        if Target(target) is not Target.SANDBOX:
            raise pytest.UsageError("--sandbox-endpoint only applies to --stack-target sandbox")
        problem = loopback_problem(o.sandbox_endpoint)
        if problem:
            raise pytest.UsageError(f"--sandbox-endpoint {o.sandbox_endpoint}: {problem}")
    workdir = Path(o.stack_workdir or config.getini("stack_workdir"))
    if not workdir.is_absolute():
        workdir = config.rootpath / workdir
    problem = directory_problem(workdir)
    if problem:
        source = "--stack-workdir" if o.stack_workdir else "ini stack_workdir"
        raise pytest.UsageError(f"{source} {workdir}: {problem}")
    state_url = parse_state(config, Target(target))
    if o.reuse_stack and not workdir_for(workdir, o.reuse_stack, state_url).exists():
        raise pytest.UsageError(f"--reuse-stack {o.reuse_stack}: nothing recorded in "
                                f"{workdir / o.reuse_stack}; recorded suffixes: "
                                f"{recorded_suffixes(workdir)}. Deploy one with --keep-stack")
    if o.reuse_stack:
        try:  # once here, rather than in the fixture of every test
            workdir_for(workdir, o.reuse_stack, state_url).deployment()
        except RecordError as exc:
            raise pytest.UsageError(f"--reuse-stack {o.reuse_stack}: {exc}") from None
    config_file = o.stack_config or config.getini("stack_config") or os.environ.get("STACK_CONFIG", "")
    if config_file and not Path(config_file).is_absolute():
        config_file = str(config.invocation_params.dir / config_file)
    try:
        attempts = int(config.getini("stack_destroy_attempts"))
    except ValueError:
        raise pytest.UsageError("stack_destroy_attempts must be an integer") from None
    if not 1 <= attempts <= 10:
        raise pytest.UsageError(f"stack_destroy_attempts={attempts}: 1..10 (each failed "
                                "attempt waits up to 60 s)")
    upgrade_ref = o.stack_upgrade_from or config.getini("stack_upgrade_from")
    if upgrade_ref and o.reuse_stack:
        raise pytest.UsageError("--stack-upgrade-from deploys its base and then upgrades it; "
                                "--reuse-stack deploys nothing: choose one")
    try:
        upgrade_from = upgrade.resolve_base(upgrade_ref) if upgrade_ref else None
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    return Options(target=Target(target), sandbox_endpoint=o.sandbox_endpoint,
                   suffix=named or o.stack_suffix or random_suffix(), keep=o.keep_stack,
                   reuse=bool(o.reuse_stack), workdir_root=workdir,
                   config_file=Path(config_file) if config_file else None,
                   destroy_attempts=attempts, upgrade_from=upgrade_from,
                   expires_at=run_expiry(config), stack_state=state_url)


def run_expiry(config: pytest.Config) -> str:
    """ExpiresAt for this run, computed once here (the controller) and handed to the workers."""
    text = config.option.stack_ttl or config.getini("stack_ttl") or DEFAULT_TTL
    try:
        return expires_at(parse_ttl(text))
    except TtlError as exc:
        raise pytest.UsageError(str(exc)) from None


def parse_state(config: pytest.Config, target: Target) -> str | None:
    """--stack-state, validated; None keeps the state in the local workdir."""
    url = (config.option.stack_state or config.getini("stack_state")
           or os.environ.get("STACK_STATE", ""))
    if not url:
        return None
    if target is Target.SANDBOX:
        raise pytest.UsageError(f"--stack-state {url}: only with --stack-target aws (a sandbox "
                                "lives in one moto process, so its state stays beside it)")
    try:
        return StateLocation.parse(url).url
    except RemoteStateError as exc:
        raise pytest.UsageError(str(exc)) from None


def plan_config(config: pytest.Config, opts: Options, run_id: str = "") -> StackConfig:
    """The run's StackConfig, built once (suffix limits, config file, the aws allow-list)."""
    o = config.option
    try:
        return planned_config(opts, run_id)
    except HarnessError as exc:
        if o.stack_suffix or o.reuse_stack:
            flag = "--reuse-stack" if o.reuse_stack else "--stack-suffix"
            raise pytest.UsageError(f"{flag} {opts.suffix}: {exc}") from None
        raise pytest.UsageError(str(exc)) from None


def recorded_suffixes(root: Path) -> str:
    return ", ".join(sorted(p.parent.name for p in root.glob("*/deployment.json"))) or "(none)"


# ------------------------------------------------------------------ per-process state
@dataclass
class Outcome:
    nodeid: str
    outcome: str
    proves: str
    reason: str = ""


@dataclass
class Harness:
    config: pytest.Config
    opts: Options
    planned: StackConfig
    run_id: str
    is_owner: bool
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    stack: DeployedStack | None = None
    destroy_error: str = ""
    destroy_check: DestroyCheck | None = None
    kept: str = ""
    _previous_handlers: signals.Handlers = field(default_factory=dict)

    @property
    def workdir(self) -> StackWorkdir:
        return self.opts.workdir

    def progress(self) -> Progress:
        return Progress(self.workdir, write=self._write)

    def _write(self, line: str) -> None:
        # Tests run with output captured; progress must reach the terminal anyway, also
        # from an xdist worker (whose stderr is the controller's terminal).
        capman = self.config.pluginmanager.getplugin("capturemanager")
        ctx = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
        with ctx:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def deployer(self) -> Deployer:
        return Deployer(self.opts, self.progress(), self._synthesize, run_id=self.run_id,
                        base_synthesizer=self._synthesize_base)

    def _synthesize(self, cfg: StackConfig, outdir: Path) -> Path:
        path: Path = self.config.hook.pytest_stack_synthesize(stack_config=cfg, outdir=outdir)
        return path

    def _synthesize_base(self, cfg: StackConfig, outdir: Path, base: Base) -> Path:
        path: Path = self.config.hook.pytest_stack_synthesize_base(stack_config=cfg,
                                                                   outdir=outdir, base=base)
        return path

    def this_runs_deployment(self) -> Deployment | None:
        """The record if this run deployed it (RecordError if the record is damaged)."""
        record = self.workdir.deployment()
        return record if record is not None and record.of_run(self.run_id) else None

    def summary(self) -> DeploymentSummary | None:
        """The deployment this run made, or with --reuse-stack the one it tested."""
        record = self.workdir.deployment()
        if record is None or not (record.of_run(self.run_id) or self.opts.reuse):
            return None
        return DeploymentSummary(target=record.target, suffix=self.opts.suffix,
                                 region=record.region, status=record.status,
                                 public_outputs=self.workdir.public_outputs())


def _harness(config: pytest.Config) -> Harness:
    return config.stash[_KEY]


@pytest.hookimpl(trylast=True)
def pytest_stack_synthesize(stack_config: StackConfig, outdir: Path) -> Path:
    from stack.synthesis.synth import synthesize
    return synthesize(stack_config, outdir)


@pytest.hookimpl(trylast=True)
def pytest_stack_synthesize_base(stack_config: StackConfig, outdir: Path, base: Base) -> Path:
    return upgrade.synthesize_base(stack_config, outdir, base)


def pytest_stack_deployment_summary(config: pytest.Config) -> DeploymentSummary | None:
    harness = config.stash.get(_KEY, None)
    return harness.summary() if harness is not None else None


# ------------------------------------------------------------------ --destroy-stack
@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | pytest.ExitCode | None:
    if hasattr(config, "workerinput"):
        return None
    if config.option.list_stacks:
        return list_stacks(config)
    if config.option.destroy_stack is None:
        return None
    opts = parse_options(config)
    workdir = opts.workdir
    if not workdir.exists():
        print(f"--destroy-stack {opts.suffix}: nothing recorded in {workdir.path}; "
              f"suffixes recorded in {opts.workdir_root}: {recorded_suffixes(opts.workdir_root)}",
              file=sys.stderr)
        return pytest.ExitCode.USAGE_ERROR
    deployer = Deployer(opts, Progress(workdir), _no_synth, run_id="destroy-" + uuid.uuid4().hex[:8])
    started = time.time()
    with _signals_deferred(deployer.progress.say):
        try:
            checked = deployer.destroy()
        except HarnessError as exc:  # DestroyError, or RecordError: the record is damaged
            print(str(exc), file=sys.stderr)
            return pytest.ExitCode.TESTS_FAILED
    print(f"destroyed suffix {opts.suffix}" + (
        "" if checked is None else f": {checked.summary_line()}"
        + "".join(f"\n  {n}" for n in checked.lines())))
    last_destroy = [t for t in workdir.timings() if t["step"] == "destroy"][-1:]
    if last_destroy and last_destroy[0]["at"] >= started:
        print("\n".join(timing_table(last_destroy)))
    return pytest.ExitCode.OK


def list_stacks(config: pytest.Config) -> pytest.ExitCode:
    state_url = parse_state(config, Target.AWS)
    if state_url is None:
        raise pytest.UsageError("--list-stacks needs --stack-state s3://bucket/prefix (or ini "
                                "stack_state, env STACK_STATE): the location to list")
    from botocore.exceptions import BotoCoreError, ClientError
    try:
        lines = list_lines(StateLocation.parse(state_url))
    except (BotoCoreError, ClientError) as exc:
        print(f"--list-stacks: cannot list {state_url} ({exc}): check the bucket name and the "
              "credentials (s3:ListBucket and s3:GetObject on it)", file=sys.stderr)
        return pytest.ExitCode.USAGE_ERROR
    print("\n".join(lines))
    return pytest.ExitCode.OK


def _no_synth(cfg: StackConfig, outdir: Path) -> Path:  # pragma: no cover - never called
    raise HarnessError("--destroy-stack does not synthesize")


# ------------------------------------------------------------------ session setup
WORKER_OPTIONS = "stack_harness"
WORKER_CONFIG = "stack_harness_config"
WORKER_RUN_ID = "stack_harness_run"


def pytest_configure(config: pytest.Config) -> None:
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None:
        # The controller built and validated the config; the worker takes it as it is.
        harness = Harness(config, Options.model_validate_json(worker_input[WORKER_OPTIONS]),
                          config_from_mapping(json.loads(worker_input[WORKER_CONFIG])),
                          run_id=worker_input[WORKER_RUN_ID], is_owner=False)
    else:
        opts = parse_options(config)
        run_id = uuid.uuid4().hex
        harness = Harness(config, opts, plan_config(config, opts, run_id), run_id=run_id,
                          is_owner=True)
        if opts.target is Target.AWS:
            _require_caller(harness.planned.region)
        config.pluginmanager.register(_OutcomeRecorder(harness), "stack-harness-outcomes")
    harness._previous_handlers = signals.install(
        signals.OWNER_SIGNALS if harness.is_owner else signals.WORKER_SIGNALS)
    config.stash[_KEY] = harness


def _require_caller(region: str) -> None:
    """One bounded STS call before anything is created: no credentials or no answer is one
    session error, not a traceback in every test (issue #14)."""
    try:
        caller_identity(region)
    except AccountCheckError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    harness = config.stash.get(_KEY, None)
    if harness is not None:
        signals.restore(harness._previous_handlers)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller -> worker: the same options, config and run id for every worker."""
    harness = _harness(node.config)
    node.workerinput[WORKER_OPTIONS] = harness.opts.model_dump_json()
    node.workerinput[WORKER_CONFIG] = json.dumps(config_to_mapping(harness.planned))
    node.workerinput[WORKER_RUN_ID] = harness.run_id


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    harness = _harness(config)
    for item in items:
        live = item.get_closest_marker("live")
        if live is None:
            continue
        reason = live.kwargs.get("reason")
        if not reason:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.live needs reason=... naming "
                                    "what the sandbox cannot do")
        if harness.opts.is_sandbox:
            item.add_marker(pytest.mark.skip(
                reason=f"live: needs a real AWS account (--stack-target aws); {reason}"))


# ------------------------------------------------------------------ deploy -> yield -> destroy
@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> DeployedStack:
    """The deployed stack (deploys it on first use, once per run across xdist workers)."""
    harness = _harness(request.config)
    if harness.stack is None:
        deployer = harness.deployer()
        harness.stack = deployer.load() if harness.opts.reuse else deployer.deploy(harness.planned)
    return harness.stack


@pytest.hookimpl(trylast=True)  # after xdist's own sessionfinish has stopped every worker
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    harness = _harness(session.config)
    if not harness.is_owner or harness.opts.reuse:
        return
    deployer = harness.deployer()
    try:
        record = harness.this_runs_deployment()
        if record is None:
            return
        if harness.opts.keep:
            harness.kept = deployer.keep_message(record)
            return
        # Not re-raised: the evidence bundle and the summary come after this hook and must
        # still be written; the exit status says the run was interrupted.
        with _signals_deferred(deployer.progress.say, reraise=False) as received:
            harness.destroy_check = deployer.destroy()
        if received:
            session.exitstatus = pytest.ExitCode.INTERRUPTED
    except HarnessError as exc:  # DestroyError, or RecordError: what exists is unknown
        harness.destroy_error = str(exc)
        deployer.progress.say(harness.destroy_error)
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


# A destroy must not be cut short by a second Ctrl-C, SIGTERM or SIGHUP: noted, finished, exit.
_signals_deferred = signals.deferred


# ------------------------------------------------------------------ reporting
@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item,
                              call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport,
                                                                        pytest.TestReport]:
    report = yield
    if item.get_closest_marker("integration") is not None:
        doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
        first_paragraph = " ".join(doc.split("\n\n")[0].split())
        callspec = getattr(item, "callspec", None)
        label = (first_paragraph or item.name) + (f" [{callspec.id}]" if callspec else "")
        report.user_properties.append((PROVES_PROPERTY, label))
    return report


class _OutcomeRecorder:
    """Registered in the owning process only: collects what each integration test proved
    (its docstring's first line, sent along from xdist workers with the report)."""

    def __init__(self, harness: Harness):
        self.harness = harness

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        proves = dict(report.user_properties).get(PROVES_PROPERTY)
        if proves is None or not (report.when == "call" or report.outcome != "passed"):
            return
        reason = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
        previous = self.harness.outcomes.get(report.nodeid)
        if previous is None or previous.outcome == "passed":
            self.harness.outcomes[report.nodeid] = Outcome(report.nodeid, report.outcome,
                                                           str(proves), reason)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int,
                            config: pytest.Config) -> None:
    harness = config.stash.get(_KEY, None)
    if harness is None or not harness.is_owner:
        return
    try:
        record = harness.workdir.deployment()
    except RecordError:
        record = None  # sessionfinish has put the error into destroy_error
    this_run = record is not None and record.of_run(harness.run_id)
    if not (harness.outcomes or this_run or harness.opts.reuse or harness.destroy_error):
        return
    tr = terminalreporter
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
