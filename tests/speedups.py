"""The test suite's speed tricks, in one place, each kept for what it measurably buys.

A trick stays only if it saves at least 0.5 s of a cold (every cache off) or a warm (nothing
changed) `pytest -m unit`: the median of back-to-back A/B pairs, with and without it, on a
2-core machine. docs/speed.md has every number, and the tricks that did not pay and went.

- Bytecode under .synth-cache/bytecode/ (``keep_bytecode_out_of_the_tree``): with
  PYTHONDONTWRITEBYTECODE set, every run would recompile the plugins and re-rewrite the test
  modules' asserts; warm runs 1.0 s faster.
- ``gc.freeze()`` once pytest is done (``pytest_unconfigure``): the interpreter's teardown
  skips the cycle collector's passes over every object left; warm runs 0.7 s faster.
- Child processes started together (``head_start``, ``Children``): the tests that run a real
  child get it started at the first test, on the core the in-process tests leave idle,
  instead of one after another when each test gets there; warm runs 0.8 s faster.
- terraform validate and the policy gate in background threads (``BackgroundChecks``),
  started the moment the synth is done, while the JSON assertions run; cold runs 17.6 s
  faster. Within them:
  - the sandbox JSON is not validated a second time: the gate's `terraform plan` validates
    it before it plans; cold runs 2.9 s faster (5.5 CPU-seconds fewer);
  - the other validations run at lower CPU priority (``LOWER_PRIORITY``), so the gate's plan,
    the longest chain, gets the cores first; cold runs 4.2 s faster.

- The README's test command under xdist (bin/test: ``-n 3 --dist loadgroup``), grouped by
  suite (``pytest_collection_modifyitems``): most of a component or integration test waits on
  terraform, its provider and moto, so three workers share two cores; the whole suite
  (bash .ci/run's tests) took 778 s where one process takes ~1,600 s.

Kept beside what they speed up, because they belong to it:
- the synth cache (stack/synthesis/cache.py) and the lean provider import
  (stack/synthesis/bindings.py);
- the verdict caches, keyed by content like the synth cache: terraform validate's
  (tests/unit/terraform_checks.py) and the policy gate's plan + scan (evidence/checkov_gate.py);
- GOGC=400 for every terraform child (harness/terraform.py);
- the auto-loaded plugins nothing uses, turned off in pytest.ini.
"""
from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import pytest

from stack.synthesis.cache import caching_off, default_cache_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ bytecode
def keep_bytecode_out_of_the_tree(project_root: Path) -> Path | None:
    """Redirect and enable bytecode writing; returns the directory, None when nothing changed.

    PYTHONDONTWRITEBYTECODE's point is no bytecode beside the sources, so the session writes
    it under the project's cache instead. STACK_SYNTH_CACHE=off (a cold run: every cache off)
    keeps none, and a prefix the caller chose (PYTHONPYCACHEPREFIX) is left alone.
    """
    if not sys.dont_write_bytecode or sys.pycache_prefix or caching_off():
        return None
    prefix = (default_cache_dir(project_root) / "bytecode").resolve()
    sys.pycache_prefix = str(prefix)
    sys.dont_write_bytecode = False
    return prefix


# At import: pytest.ini loads this plugin first (-p), so the plugins after it compile under
# the redirect, and so do the imports below.
keep_bytecode_out_of_the_tree(PROJECT_ROOT)

from evidence import checkov_gate  # noqa: E402
from tests.unit.terraform_checks import VALID, VALIDATED, validate, validation_mirror  # noqa: E402
from tests.unit.tfjson import TfJson  # noqa: E402


# ------------------------------------------------------------------ xdist groups
@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` (bin/test): the unit suite is one group (its session
    fixtures, the synth and terraform's checks, are paid once, not in every worker), the
    integration suite another (one deploy either way), the tests that use the MariaDB server
    another (one server, not one per worker), and each other component module its own (its
    module fixtures, e.g. a stand-in account, are started once)."""
    # In a worker xdist turns --dist into "no" and keeps the choice as option.loadgroup.
    if not getattr(config.option, "loadgroup", False):
        return
    tests = PROJECT_ROOT / "tests"
    for item in items:
        path = Path(str(item.path))
        suite = path.relative_to(tests).parts if path.is_relative_to(tests) else (str(path),)
        group = (suite[0] if suite[0] in ("unit", "integration")
                 else "mariadb" if "mariadb" in getattr(item, "fixturenames", ())
                 else "/".join(suite))
        item.add_marker(pytest.mark.xdist_group(group))


# ------------------------------------------------------------------ teardown
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    # Everything is reported and written by now. Frozen objects are still freed by reference
    # counting and their files closed; only the collector's passes over them are skipped.
    gc.freeze()


# ------------------------------------------------------------------ child processes
MARKER = "head_start"


@dataclass
class Launch:
    """A command to start, and what its test needs to know about it afterwards."""
    args: list[str]
    cwd: Path | None = None
    env: dict[str, str] | None = None
    timeout: float = 120
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str
    context: dict[str, Any]


Prepare = Callable[[Path], Launch]


def head_start(prepare: Prepare) -> pytest.MarkDecorator:
    """Marks a test whose ``child`` fixture is the finished run of ``prepare(work)``, started
    with the session; ``prepare`` writes the child's inputs under ``work``.

        @speedups.head_start(_prepare)
        def test_something(child):
            assert child.returncode == 0, child.stderr
    """
    return getattr(pytest.mark, MARKER).with_args(prepare)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(prepare): the test's child process starts "
                                       "with the session (tests/speedups.py)")


class Children:
    """The children of the selected tests; each test gets exactly its own child's exit code
    and output, a hung child fails its test, none outlives the session. Under xdist every
    worker sees the whole selection but runs only its share, so a worker starts them all at
    its first test that asks for a child (bin/test keeps them in one worker); unread ones are
    killed."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory):
        self.tmp = tmp_path_factory
        self.running: dict[str, tuple[subprocess.Popen, Launch, Path]] = {}
        self.pending: dict[str, Prepare] = {}

    def start(self, nodeid: str, prepare: Prepare) -> None:
        base = self.tmp.mktemp("child")
        work = base / "work"
        work.mkdir()
        launch = prepare(work)
        # Files, not pipes: a child never blocks on output nobody reads yet.
        with open(base / "stdout", "w") as out, open(base / "stderr", "w") as err:
            proc = subprocess.Popen(launch.args, cwd=launch.cwd, env=launch.env, stdout=out,
                                    stderr=err, stdin=subprocess.DEVNULL, text=True)
        self.running[nodeid] = (proc, launch, base)

    def finished(self, nodeid: str) -> Finished:
        for pending, prepare in list(self.pending.items()):
            self.start(pending, prepare)
        self.pending.clear()
        if nodeid not in self.running:
            raise RuntimeError(f"{nodeid} asks for its child but has no @speedups.head_start mark")
        proc, launch, base = self.running.pop(nodeid)
        try:
            proc.wait(timeout=launch.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"child {launch.args[:3]} did not finish within {launch.timeout:.0f}s "
                        f"(output in {base})", pytrace=False)
        return Finished(proc.returncode, (base / "stdout").read_text(),
                        (base / "stderr").read_text(), launch.context)

    def close(self) -> None:
        for proc, _, _ in self.running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        self.running.clear()


@pytest.fixture(scope="session", autouse=True)
def children(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Every selected test's child process, started at the first test."""
    started = Children(tmp_path_factory)
    under_xdist = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    try:
        for item in request.session.items:
            marker = item.get_closest_marker(MARKER)
            if marker is not None and under_xdist:
                started.pending[item.nodeid] = marker.args[0]
            elif marker is not None:
                started.start(item.nodeid, *marker.args)
        yield started
    finally:
        started.close()


@pytest.fixture
def child(request: pytest.FixtureRequest, children: Children) -> Finished:
    return children.finished(request.node.nodeid)


# ------------------------------------------------------------------ terraform checks
VALIDATE_FIXTURE = "validations"
GATE_FIXTURE = "policy_gate"
LOWER_PRIORITY = ("nice", "-n", "10") if shutil.which("nice") else ()
BY_GATE = " (proven by the policy gate's `terraform plan`, which validates before it plans)"


class BackgroundChecks:
    """terraform validate of each synthesized stack and the policy gate, in threads.

    They need nothing but the JSON and take most of a cold run, so ``start`` runs them as
    soon as the synth is done, for the selected tests that need them only (`-k alb` starts
    neither). Their tests read the futures.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.pool = ThreadPoolExecutor(max_workers=len(VALIDATED) + 1,
                                       thread_name_prefix="tf-check")
        self.validations: dict[str, Future[str]] = {}
        self.gate: Future[tuple[checkov_gate.GateResult, dict[str, Any]]] | None = None

    def start(self, needed_fixtures: set[str], docs: dict[str, TfJson]) -> None:
        """Start what the selected tests need; ``docs`` maps config name to its JSON."""
        if GATE_FIXTURE in needed_fixtures and self.gate is None:
            # First: it is the longest, and a cached scan returns at once.
            self.gate = self.pool.submit(checkov_gate.run_gate, docs["sandbox"].path.parent,
                                         self.workdir / "gate")
        if VALIDATE_FIXTURE in needed_fixtures and not self.validations:
            mirror = validation_mirror()
            for name in VALIDATED:
                doc = docs[name]
                args = (doc.path.parent, self.workdir / "validate" / name, mirror, doc.text)
                self.validations[name] = (
                    self.pool.submit(self._validated_by_gate, args)
                    if name == "sandbox" and self.gate is not None
                    else self.pool.submit(validate, *args, under=LOWER_PRIORITY))

    def _validated_by_gate(self, validate_args: tuple[Any, ...]) -> str:
        # `terraform plan` starts with the same validate walk (`walkValidate` in its log) and
        # the gate plans exactly the sandbox JSON: its plan is that JSON's validation.
        try:
            self.gate.result()
        except checkov_gate.GateError as exc:
            if exc.step == "plan":
                return str(exc)              # the validate walk or the plan refused the JSON
            return validate(*validate_args)  # the gate broke elsewhere: validate on its own
        return VALID + BY_GATE

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session")
def background_checks(tmp_path_factory: pytest.TempPathFactory):
    checks = BackgroundChecks(tmp_path_factory.mktemp("terraform-checks"))
    yield checks
    checks.close()
