"""Child pytest sessions for the harness's component tests: a throwaway project that loads
the plugin, the environment it runs in, and where its workdir lands."""
from __future__ import annotations

import os
import sys
import textwrap
import uuid
from pathlib import Path

from harness.record import Status
from harness.workdir import StackWorkdir

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HARNESS_CONFTEST = 'pytest_plugins = ["harness.plugin"]\n'
PYTEST_INI = "[pytest]\nmarkers =\n    integration: deployed stack\n    live: real AWS only\n"


def make_project(tmp_path: Path, conftest: str | None, tests: str, test_file: str) -> Path:
    """``tmp_path/project`` with the markers, ``tests`` in ``test_file`` and ``conftest``
    (None: no conftest, the plugins come from the installed entry points)."""
    project = tmp_path / "project"
    project.mkdir()
    if conftest is not None:
        (project / "conftest.py").write_text(conftest)
    (project / "pytest.ini").write_text(PYTEST_INI)
    (project / test_file).write_text(textwrap.dedent(tests))
    return project


def pytest_env(**extra: str) -> dict[str, str]:
    """The caller's environment, the project importable, and nothing of the outer session
    (its addopts, its xdist worker id, its stack config) leaking into the child."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    for key in ("PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "STACK_CONFIG"):
        env.pop(key, None)
    env.update(extra)
    return env


def pytest_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args]


def workdir(project: Path, suffix: str) -> StackWorkdir:
    return StackWorkdir(project / ".stack-work", suffix)


def status(wd: StackWorkdir) -> Status:
    """The recorded status of the suffix's deployment; the test fails if nothing is recorded."""
    record = wd.deployment()
    assert record is not None, f"nothing recorded in {wd.deployment_file}"
    return record.status


def new_suffix(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:6]
