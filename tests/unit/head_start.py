"""Child processes some unit tests run for real, all started when the session starts.

A warm `pytest -m unit` (nothing changed, ~2.5 s here) spent ~0.5 s of it waiting on children
that ran one after another (the CLI refusing a bad config, lambda/build.py's command line,
the Lambda package imported from its task root); started together at the first test they
run on the core the in-process tests leave idle. A test still gets exactly its own child's
exit code and output, when it gets there. Only the children of selected tests start (under
xdist every worker sees the whole selection, so each starts them all; unread ones are killed
at the end).

    def _prepare(work: Path) -> Launch:          # writes its inputs under ``work``
        return Launch([sys.executable, ...], context={"out": work / "out"})

    @head_start.child(_prepare)
    def test_something(child):                    # a Finished run
        assert child.returncode == 0, child.stderr
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

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


def child(prepare: Prepare):
    """Marks a test whose ``child`` fixture is the finished run of ``prepare(work)``."""
    return getattr(pytest.mark, MARKER).with_args(prepare)


class Children:
    def __init__(self, tmp_path_factory):
        self.tmp = tmp_path_factory
        self.running: dict[str, tuple[subprocess.Popen, Launch, Path]] = {}

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
        if nodeid not in self.running:
            raise RuntimeError(f"{nodeid} asks for its child but has no @head_start.child mark")
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
