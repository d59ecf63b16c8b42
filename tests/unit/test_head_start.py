"""The head start of the unit tests' child processes (tests/speedups.py): each test
gets its own child's exit code and output, a hung child fails its test, none outlives the
session."""
from __future__ import annotations

import pytest

from tests import speedups

pytestmark = pytest.mark.unit


def _sh(script: str, timeout: float = 30):
    def prepare(work):
        (work / "input").write_text(script)
        return speedups.Launch(["sh", str(work / "input")], timeout=timeout,
                               context={"work": work})
    return prepare


def test_each_test_gets_its_own_childs_exit_code_and_output(tmp_path_factory):
    children = speedups.Children(tmp_path_factory)
    children.start("a", _sh("echo out-a; echo err-a >&2; exit 3"))
    children.start("b", _sh("echo out-b"))
    b, a = children.finished("b"), children.finished("a")
    assert (a.returncode, a.stdout, a.stderr) == (3, "out-a\n", "err-a\n")
    assert (b.returncode, b.stdout, b.stderr) == (0, "out-b\n", "")
    assert (a.context["work"] / "input").is_file()
    with pytest.raises(RuntimeError, match="no @speedups.head_start mark"):
        children.finished("a")  # consumed once


def test_a_hung_child_fails_its_test_and_is_killed(tmp_path_factory):
    children = speedups.Children(tmp_path_factory)
    children.start("slow", _sh("sleep 30", timeout=0.05))
    proc = children.running["slow"][0]
    with pytest.raises(pytest.fail.Exception, match="did not finish within"):
        children.finished("slow")
    assert proc.poll() is not None


def test_close_ends_children_nobody_asked_for(tmp_path_factory):
    children = speedups.Children(tmp_path_factory)
    children.start("never-read", _sh("sleep 30"))
    proc = children.running["never-read"][0]
    children.close()
    assert proc.poll() is not None and not children.running
