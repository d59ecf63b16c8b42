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

The options and their validation are in ``plugin_options``, the end-of-session section in
``summary``; this module keeps the hooks and the lifecycle.
"""
from __future__ import annotations

import contextlib
import json
import sys
import time
import uuid
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from evidence.base_synth import Base
from harness import hooks, signals, summary, upgrade
from harness.account_check import AccountCheckError, caller_identity
from harness.deployed import DeployedStack
from harness.deployment import Deployer
from harness.destroy_check import DestroyCheck
from harness.errors import HarnessError
from harness.hooks import PROVES_PROPERTY, DeploymentSummary
from harness.options import Options
from harness.plugin_options import (add_options, parse_options, parse_state, plan_config,
                                    recorded_suffixes)
from harness.summary import Outcome
from harness.progress import Progress, timing_table
from harness.record import Deployment, Target
from harness.remote_state import StateLocation, list_lines
from harness.workdir import StackWorkdir
from stack.config import (StackConfig, config_from_mapping, config_to_mapping)

_KEY = pytest.StashKey["Harness"]()


# ------------------------------------------------------------------ options
def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


# ------------------------------------------------------------------ per-process state
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
    if harness is not None and harness.is_owner:
        summary.write(terminalreporter, harness, exitstatus)
