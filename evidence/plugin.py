"""pytest plugin: PCI DSS control markers, facts, redaction and the per-run evidence bundle.

- ``@pytest.mark.control("4.2.1", ...)`` names the requirements a test evidences; an id that
  is not in the catalogue fails the collection of that test's module.
- ``record_fact(key, value)`` keeps what a test read to prove it (redacted when recorded).
- ``evidence_secret(value)`` registers a secret: no file of the bundle will contain it.
- ``--evidence-dir DIR`` writes junit.xml, report.json and summary.md (gaps first); the policy
  gate test adds checkov/. Outcomes are aggregated where reports arrive: the only process, or
  the xdist controller (workers send their collected items and secrets at the end).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from evidence import bundle, catalogue, environment, secret_capture
from evidence import status as st
from evidence.redact import Redactor
from harness.hooks import PROVES_PROPERTY
from harness.path_checks import directory_problem

_KEY = pytest.StashKey["EvidenceRun"]()
CONTROLS_PROP = "pci_dss"
FACT_PROP = "evidence_fact"
PARENT_RUN_ENV = "EVIDENCE_PARENT_RUN"
CI_DIR = "out/evidence"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class EvidenceRun:
    config: pytest.Config
    catalogue: catalogue.Catalogue
    out_dir: Path | None
    run_id: str
    is_controller: bool
    redactor: Redactor = field(default_factory=Redactor)
    started: str = field(default_factory=_now)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, st.TestRecord] = field(default_factory=dict)
    rows: list[dict[str, Any]] | None = None
    written: dict[str, Path] = field(default_factory=dict)
    # Where this run's files go until the bundle is complete (bundle.staging_dir); created
    # by the first write, so a run that writes nothing creates nothing.
    staging: Path | None = None

    def record(self, nodeid: str) -> st.TestRecord:
        if nodeid not in self.tests:
            info = self.items.get(nodeid, {})
            self.tests[nodeid] = st.TestRecord(nodeid, list(info.get("controls", [])),
                                               bool(info.get("live")))
        return self.tests[nodeid]

    def finish_records(self) -> None:
        """Tests that were collected but produced no report: deselected or never reached."""
        for nodeid, info in self.items.items():
            rec = self.record(nodeid)
            rec.controls = rec.controls or list(info["controls"])
            rec.live = rec.live or bool(info["live"])
            if rec.outcome == "not-run" and info.get("deselected"):
                rec.outcome = "deselected"


def _run(config: pytest.Config) -> EvidenceRun:
    return config.stash[_KEY]


# ------------------------------------------------------------------ options and setup
def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("evidence", "PCI DSS release evidence (evidence.plugin)")
    g.addoption("--evidence-dir", metavar="DIR",
                help="write this run's evidence bundle (junit.xml, report.json, summary.md, "
                     "checkov/) into DIR, replacing the earlier bundle there once this one "
                     "is complete. Default: "
                     "$EVIDENCE_DIR, or out/evidence when CI=true")
    g.addoption("--stack-base", metavar="REF",
                help="the release this change must upgrade in place (evidence/base_synth.py): "
                     "a tag, branch or commit. Default: $STACK_BASE, else the newest v* tag "
                     "below HEAD, else the previous commit")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "control(*ids): PCI DSS v4.0.1 requirement ids this test evidences "
                   "(each must be listed in evidence/pci_dss_v4_0_1.yaml)")
    try:
        cat = catalogue.load()
    except catalogue.CatalogueError as exc:
        raise pytest.UsageError(str(exc)) from None
    worker = getattr(config, "workerinput", None)
    out_dir = _out_dir(config) if worker is None else None
    if worker is None:
        # A pytest that a test starts must not take over (and clear) this run's CI bundle.
        os.environ[PARENT_RUN_ENV] = os.environ.get(PARENT_RUN_ENV) or "1"
    run_id = worker["evidence_run_id"] if worker else uuid.uuid4().hex[:12]
    run = EvidenceRun(config, cat, out_dir, run_id, is_controller=worker is None)
    secret_capture.install(run.redactor.add)
    if worker is not None:
        run.out_dir = Path(worker["evidence_dir"]) if worker.get("evidence_dir") else None
        run.staging = Path(worker["evidence_staging"]) if worker.get("evidence_staging") else None
    elif out_dir is not None:
        run.staging = bundle.staging_dir(out_dir, run_id)
    config.stash[_KEY] = run
    if run.is_controller:
        config.pluginmanager.register(_Aggregator(run), "evidence-aggregator")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    run = _run(node.config)
    node.workerinput["evidence_run_id"] = run.run_id
    node.workerinput["evidence_dir"] = str(run.out_dir) if run.out_dir else ""
    node.workerinput["evidence_staging"] = str(run.staging) if run.staging else ""


def _folder_taken_for_a_test_path(config: pytest.Config, path: Path) -> bool:
    """pytest picks the rootdir and ini file before any plugin's options are known, so the
    value of "--evidence-dir DIR", an existing folder, counts as a test path there (pytest
    #8846): the rootdir comes from that folder (itself, or what it shares with the working
    directory), and the ini file is the one above the folder, if any, not the project's."""
    args = list(config.invocation_params.args)
    separate = any(a == "--evidence-dir" and b == config.option.evidence_dir
                   for a, b in zip(args, args[1:], strict=False))
    if not separate or not path.is_dir():
        return False
    here = config.invocation_params.dir.resolve()
    return config.inipath is None or config.inipath.parent.resolve() not in (here, *here.parents)


def _out_dir(config: pytest.Config) -> Path | None:
    """--evidence-dir, else $EVIDENCE_DIR, else out/evidence under the rootdir in CI (CI=true)
    unless this pytest was started by another one's test."""
    chosen = config.option.evidence_dir
    if not chosen and not os.environ.get(PARENT_RUN_ENV):
        chosen = os.environ.get("EVIDENCE_DIR")
        if not chosen and os.environ.get("CI") == "true":
            return config.rootpath / CI_DIR
    if not chosen:
        return None
    path = Path(chosen)
    path = path if path.is_absolute() else config.invocation_params.dir / path
    if chosen == config.option.evidence_dir and _folder_taken_for_a_test_path(config, path):
        raise pytest.UsageError(
            f"--evidence-dir {chosen}: pytest took this folder for a test path and chose the "
            "rootdir from it, so the project's pytest.ini (markers, addopts, testpaths) was not "
            "read. "
            f"Write --evidence-dir={chosen} (one word), name the tests as well (e.g. tests/unit), "
            f"or set EVIDENCE_DIR={chosen}")
    # The bundle is built beside the folder and swapped in: both must be possible.
    problem = directory_problem(path) or (
        None if (where := directory_problem(path.parent)) is None
        else f"its bundle is built beside it, but {path.parent} {where}")
    if problem:
        source = "--evidence-dir" if chosen == config.option.evidence_dir else "EVIDENCE_DIR"
        raise pytest.UsageError(f"{source} {path}: {problem}")
    return path


# ------------------------------------------------------------------ collection
def _controls(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for marker in item.iter_markers("control"):
        ids += catalogue.marker_ids(marker)
    return sorted(set(ids), key=catalogue.sort_key)


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """An unknown requirement id fails the collection of the module that names it."""
    report = yield
    if not report.passed:
        return report
    cat = _run(collector.config).catalogue
    problems = []
    for node in report.result:
        if not isinstance(node, pytest.Item):
            continue
        try:
            unknown = [i for i in _controls(node) if i not in cat]
        except catalogue.CatalogueError as exc:
            problems.append(f"{node.nodeid}: {exc}")
            continue
        if unknown:
            problems.append(f"{node.nodeid}: @pytest.mark.control names {', '.join(unknown)}, "
                            f"not in the PCI DSS catalogue {cat.path.name}; use a listed id or "
                            "add the requirement (id, title) to the catalogue")
    if problems:
        report.outcome = "failed"
        report.longrepr = "\n".join(problems)
        report.result = []
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    run = _run(config)
    for item in items:
        controls = _controls(item)
        run.items[item.nodeid] = {"controls": controls, "live": item.get_closest_marker("live") is not None,
                                  "deselected": False}
        if controls:
            # Travels with every report (also from xdist workers) and into any JUnit file.
            item.user_properties.append((CONTROLS_PROP, " ".join(controls)))


def pytest_deselected(items: list[pytest.Item]) -> None:
    if not items:
        return
    run = _run(items[0].config)
    for item in items:
        if item.nodeid in run.items:
            run.items[item.nodeid]["deselected"] = True


# ------------------------------------------------------------------ fixtures
@pytest.fixture
def record_fact(request: pytest.FixtureRequest):
    """``record_fact("rds.StorageEncrypted", True)``: a fact this test read to prove its
    requirement; it appears beside the test in report.json and summary.md."""
    run = _run(request.config)

    def record(key: str, value: Any) -> None:
        clean = run.redactor.data({str(key): value})[str(key)]
        json.dumps(clean)  # facts must be JSON: fail here, in the test that recorded it
        request.node.user_properties.append((FACT_PROP, json.dumps({"key": str(key), "value": clean},
                                                                   sort_keys=True)))
    return record


@pytest.fixture(scope="session")
def evidence_secret(request: pytest.FixtureRequest):
    """``evidence_secret(value)``: no evidence file will contain ``value``."""
    return _run(request.config).redactor.add


@dataclass
class BundleWriter:
    """What a test may add to the bundle (the policy gate writes checkov's reports)."""
    dir: Path | None
    redactor: Redactor

    def write_json(self, rel: str, doc: Any) -> Path | None:
        return bundle.write_json(self.dir, rel, doc, self.redactor) if self.dir else None


@pytest.fixture(scope="session")
def evidence_bundle(request: pytest.FixtureRequest) -> BundleWriter:
    run = _run(request.config)
    return BundleWriter(run.staging, run.redactor)


# ------------------------------------------------------------------ outcomes (where reports arrive)
class _Aggregator:
    def __init__(self, run: EvidenceRun):
        self.run = run

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rec = self.run.record(report.nodeid)
        props = report.user_properties
        controls = [v for k, v in props if k == CONTROLS_PROP]
        if controls:
            rec.controls = controls[-1].split()
        rec.facts = [json.loads(v) for k, v in props if k == FACT_PROP]
        # The harness attaches what an integration test proves (its docstring's first line).
        rec.claim = next((str(v) for k, v in props if k == PROVES_PROPERTY), rec.claim)
        rec.duration += getattr(report, "duration", 0.0)
        wasxfail = hasattr(report, "wasxfail")
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if report.passed:
                rec.outcome = "xpassed" if wasxfail else "passed"
            elif report.skipped:
                rec.outcome = "xfailed" if wasxfail else "skipped"
                rec.reason = report.wasxfail if wasxfail else _skip_reason(report)
            else:
                rec.outcome = "failed" if report.when == "call" else "error"
                rec.reason, rec.message = _failure(report)
        elif report.when == "teardown" and report.failed:
            rec.outcome = "error"
            rec.reason, rec.message = _failure(report)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        out = getattr(node, "workeroutput", {}) or {}
        for secret in out.get("evidence_secrets", []):
            self.run.redactor.add(secret)
        for nodeid, info in (out.get("evidence_items") or {}).items():
            mine = self.run.items.setdefault(nodeid, dict(info))
            mine["deselected"] = mine.get("deselected", False) or info.get("deselected", False)


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


def _failure(report: pytest.TestReport) -> tuple[str, str]:
    text = report.longreprtext or ""
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
    first = (lines[0][1:].strip() if lines else (text.strip().splitlines() or ["failed"])[-1])
    return first, text


# ------------------------------------------------------------------ the end of the run
@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int):
    # After every other sessionfinish: the harness has destroyed the stack by now, so the
    # bundle records how the deployment ended.
    result = yield
    run = _run(session.config)
    if not run.is_controller:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["evidence_items"] = run.items
            workeroutput["evidence_secrets"] = sorted(run.redactor.secrets)
        return result
    run.finish_records()
    run.rows = st.requirement_rows(run.catalogue, run.tests)
    if run.out_dir:
        root = session.config.rootpath
        meta = {"run_id": run.run_id, "started": run.started, "finished": _now(),
                "standard": run.catalogue.standard, "standard_version": run.catalogue.version,
                "catalogue": str(run.catalogue.path.relative_to(root)) if run.catalogue.path.is_relative_to(root) else str(run.catalogue.path),
                "exit_status": int(session.exitstatus),
                "command": "pytest " + " ".join(session.config.invocation_params.args),
                "table_digest": st.table_digest(run.rows),
                **environment.deployment_info(session.config)}
        git = environment.git_info(root)
        meta["git_commit"] = git["commit"] + (" (working tree has uncommitted changes)" if git["dirty"] else "")
        meta["tools"] = environment.tool_versions(root)
        assert run.staging is not None  # set with out_dir in pytest_configure
        run.written = bundle.publish(run.out_dir, run.staging, meta, run.rows, run.tests,
                                     run.redactor)
    return result


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    run = config.stash.get(_KEY, None)
    if run is None or not run.is_controller or config.option.collectonly:
        return
    if not run.written and not any(r.controls and r.outcome not in ("deselected", "not-run")
                                   for r in run.tests.values()):
        return  # a run of unmarked tests only: the map would say nothing but "gap"
    rows = run.rows if run.rows is not None else st.requirement_rows(run.catalogue, run.tests)
    c = st.counts(rows)
    tr = terminalreporter
    tr.write_sep("=", f"PCI DSS v{run.catalogue.version} control map")
    tr.write_line(f"{len(rows)} requirements: {c['met']} met, {c['gap']} gaps, {c['failed']} failed, "
                  f"{c['live-only']} live-only")
    for status in ("failed", "gap", "live-only"):
        ids = [r["id"] for r in st.gaps_first(rows) if r["status"] == status]
        if ids:
            tr.write_line(f"  {status}: {', '.join(ids)}", red=status == "failed")
    if run.written:
        tr.write_line(f"evidence bundle: {run.out_dir} (open {run.written['summary'].name})")
