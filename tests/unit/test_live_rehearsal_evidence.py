"""The loopback rehearsals of the live tests (tests/component/test_live_checks.py) prove the
live tests' code, not the platform: they must never turn a live-only requirement into "met".
Read from the sources (no import, no collection), so this holds in every unit run."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from evidence import catalogue, status

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
REHEARSALS = (ROOT / "tests/component/test_live_checks.py", ROOT / "tests/component/live_standins.py")
LIVE_TESTS = sorted((ROOT / "tests/integration").glob("test_*.py"))


def _mark_calls(node: ast.AST, name: str) -> list[ast.Call]:
    """Every ``<...>.mark.<name>(...)`` call under ``node`` (decorators, pytestmark, params)."""
    return [n for n in ast.walk(node) if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute) and n.func.attr == name
            and isinstance(n.func.value, ast.Attribute) and n.func.value.attr == "mark"]


def _ids(calls: list[ast.Call]) -> list[str]:
    return [a.value for c in calls for a in c.args
            if isinstance(a, ast.Constant) and isinstance(a.value, str)]


@dataclass(frozen=True)
class MarkedTest:
    nodeid: str
    controls: list[str]
    live: bool


def _tests(path: Path) -> list[MarkedTest]:
    tree = ast.parse(path.read_text())
    module_controls = _ids([c for stmt in tree.body if not isinstance(stmt, ast.FunctionDef)
                            for c in _mark_calls(stmt, "control")])
    rel = path.relative_to(ROOT).as_posix()
    return [MarkedTest(f"{rel}::{f.name}", module_controls + _ids(_mark_calls(f, "control")),
                       bool(_mark_calls(f, "live")))
            for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")]


def test_rehearsals_name_no_requirement():
    for path in REHEARSALS:
        named = _ids(_mark_calls(ast.parse(path.read_text()), "control"))
        assert not named, (f"{path.relative_to(ROOT)} marks control({', '.join(named)}): a "
                           "loopback rehearsal proves the live test's code, not the platform; "
                           "remove the marker (the requirement stays live-only)")


def test_passing_rehearsals_leave_live_only_requirements_live_only():
    live = [t for p in LIVE_TESTS for t in _tests(p) if t.live]
    rehearsals = _tests(REHEARSALS[0])
    assert live and rehearsals
    records = {t.nodeid: status.TestRecord(t.nodeid, t.controls, live=True, outcome="skipped")
               for t in live}
    records.update({t.nodeid: status.TestRecord(t.nodeid, t.controls, outcome="passed")
                    for t in rehearsals})
    rows = {r["id"]: r for r in status.requirement_rows(catalogue.load(), records)}
    named = {rid for t in live for rid in t.controls}
    assert named, "no live test names a requirement: nothing to keep live-only"
    assert {rid: rows[rid]["status"] for rid in named} == dict.fromkeys(named, "live-only")
    # The rule that assertion rests on: one passing non-live test naming the id makes it met.
    some = sorted(named)[0]
    records["rehearsal::marked"] = status.TestRecord("rehearsal::marked", [some],
                                                     outcome="passed")
    marked = {r["id"]: r for r in status.requirement_rows(catalogue.load(), records)}
    assert marked[some]["status"] == "met"
