"""Issue #15 item 4: the evidence bundle is built beside its folder and swapped in only when
complete; a run that ends before that (usage error, crash) leaves the earlier one as it was."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.component import child_pytest
from tests.component.child_pytest import pytest_command, pytest_env

pytestmark = pytest.mark.component

EARLIER = {"junit.xml": "<testsuites/>\n", "report.json": '{"earlier": true}\n',
           "summary.md": "# earlier\n", "checkov/gate.json": '{"earlier": true}\n',
           "notes.txt": "the user's own file, not the bundle's\n"}

# The policy gate's way of adding to the bundle, then a failing test, then (optionally) a
# crash that skips every hook: os._exit is what a kill -9 or an OOM looks like to pytest.
TESTS = '''
    import os
    import pytest

    def test_gate_writes_its_report(evidence_bundle):
        evidence_bundle.write_json("checkov/results_json.json", {"written": "this run"})

    def test_fails():
        assert False, "a failing test still gets its evidence"

    def test_crash():
        if os.environ.get("CRASH_RUN"):
            os._exit(3)
'''


def project_with_bundle(tmp_path: Path) -> Path:
    p = child_pytest.make_project(tmp_path, None, TESTS, "test_sample.py")
    for rel, text in EARLIER.items():
        (p / "out" / "evidence" / rel).parent.mkdir(parents=True, exist_ok=True)
        (p / "out" / "evidence" / rel).write_text(text)
    return p


def files(root: Path) -> dict[str, bytes]:
    return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*"))
            if f.is_file()}


def run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    child = pytest_env(**env)
    child.pop("EVIDENCE_PARENT_RUN", None)
    return subprocess.run(pytest_command("--evidence-dir=out/evidence", *args), cwd=project, env=child, capture_output=True,
                          text=True, timeout=180)


@pytest.mark.parametrize("args, env, code", [
    (("--stack-suffix", "BAD_SUFFIX"), {}, pytest.ExitCode.USAGE_ERROR),
    ((), {"CRASH_RUN": "1"}, 3),
], ids=["usage-error", "crash-mid-run"])
def test_a_run_that_ends_early_leaves_the_earlier_bundle(tmp_path: Path, args: tuple[str, ...],
                                                         env: dict[str, str], code: int) -> None:
    """The issue's story (a usage error with --evidence-dir deleted the earlier bundle) and a
    crash after the gate wrote its report: the earlier bundle is byte-identical."""
    project = project_with_bundle(tmp_path)
    before = files(project / "out" / "evidence")
    proc = run(project, *args, **env)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert files(project / "out" / "evidence") == before


def test_a_failing_run_swaps_in_a_complete_new_bundle(tmp_path: Path) -> None:
    """What the gate wrote during the run, the run's own files and the user's file are in
    the new bundle; nothing of the earlier bundle, and no staging folder, is left."""
    project = project_with_bundle(tmp_path)
    proc = run(project, "-n", "2")
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, proc.stdout + proc.stderr
    out = project / "out" / "evidence"
    after = files(out)
    assert set(after) == {"junit.xml", "report.json", "summary.md", "checkov/results_json.json",
                          "notes.txt"}  # the earlier checkov/gate.json went with its bundle
    assert json.loads(after["checkov/results_json.json"]) == {"written": "this run"}
    assert after["notes.txt"] == EARLIER["notes.txt"].encode()
    report = json.loads(after["report.json"])
    assert "earlier" not in report
    assert {t["nodeid"]: t["outcome"] for t in report["tests"]}[
        "test_sample.py::test_fails"] == "failed"
    assert sorted(os.listdir(project / "out")) == ["evidence"]


def test_swap_in_keeps_what_is_not_the_bundles(tmp_path: Path) -> None:
    """The swap itself: the staging folder becomes the bundle folder, the user's entries
    move along, the earlier bundle's files are gone, nothing is left beside."""
    from evidence import bundle
    out = tmp_path / "evidence"
    (out / "checkov").mkdir(parents=True)
    (out / "checkov" / "results_json.json").write_text("earlier")
    (out / "mine").mkdir()
    (out / "mine" / "keep.txt").write_text("keep")
    staging = bundle.staging_dir(out, "run1")
    (staging / "checkov").mkdir(parents=True)
    (staging / "checkov" / "gate.json").write_text("new")
    bundle.swap_in(staging, out)
    assert files(out) == {"checkov/gate.json": b"new", "mine/keep.txt": b"keep"}
    assert sorted(os.listdir(tmp_path)) == ["evidence"]


def test_a_failure_while_writing_keeps_the_earlier_bundle(tmp_path: Path) -> None:
    """If writing the bundle itself fails (here the run's metadata is missing), the earlier
    bundle stays byte-identical and the staging folder, with what the gate put there, goes."""
    from evidence import bundle
    from evidence.redact import Redactor
    out = tmp_path / "evidence"
    out.mkdir()
    (out / "report.json").write_text('{"earlier": true}\n')
    staging = bundle.staging_dir(out, "run2")
    (staging / "checkov").mkdir(parents=True)
    (staging / "checkov" / "results_json.json").write_text("{}")
    with pytest.raises(KeyError):
        bundle.publish(out, staging, {}, [], {}, Redactor())
    assert files(out) == {"report.json": b'{"earlier": true}\n'}
    assert sorted(os.listdir(tmp_path)) == ["evidence"]
