"""The plugins as an installed package: pyproject.toml's pytest11 entry points load them in any
pytest, the root conftest's pytest_plugins still loads them in the checkout, and either way each
is registered once. Needs the checkout installed editable (bin/setup: pip install -e ".[dev]")."""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import tempfile
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from tests.component.child_pytest import PROJECT_ROOT, pytest_command

pytestmark = pytest.mark.component

PLUGINS = ("harness.plugin", "evidence.plugin")
INSTALL_HINT = 'run `pip install -e ".[dev]"` in the checkout (bin/setup does it)'
PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
REGISTERED = re.compile(r"PLUGIN registered: <module '((?:harness|evidence)\.plugin)' from '([^']+)'>")
BUNDLE = ("junit.xml", "report.json", "summary.md")


def _install_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "install_is_current", PROJECT_ROOT / "bin" / "install_is_current.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def installed() -> importlib.metadata.Distribution:
    """This checkout's distribution; the test fails, saying how to install it, otherwise."""
    name = PYPROJECT["project"]["name"]
    install = _install_check().editable_install(name)
    if install is None:
        pytest.fail(f"{name} is not installed editable, so its entry points are not registered: "
                    f"{INSTALL_HINT}", pytrace=False)
    location, dist = install
    if location != PROJECT_ROOT.as_uri():
        pytest.fail(f"{name} is installed from {location}, not from this checkout "
                    f"({PROJECT_ROOT}): {INSTALL_HINT}", pytrace=False)
    return dist


def child_env(**extra: str) -> dict[str, str]:
    """The caller's environment without what would make the child part of this session, and
    without PYTHONPATH: the plugins must come from the install or from the checkout's root."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER", "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "STACK_CONFIG", "EVIDENCE_DIR", "CI")}
    return {**env, **extra}


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(pytest_command(*args), cwd=cwd, env=child_env(**env),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def evidence_dir(tmp_path: Path) -> Path:
    """An existing folder outside the checkout, as $RUNNER_TEMP/evidence is in CI."""
    path = tmp_path / "evidence"
    path.mkdir()
    assert not path.is_relative_to(PROJECT_ROOT)
    return path


@pytest.fixture(params=["elsewhere", "beside the checkout"])
def any_evidence_dir(request, evidence_dir: Path) -> Iterator[Path]:
    """The folder on another branch of the tree, or beside the checkout: then pytest's rootdir
    is the folder the two share, not the evidence folder itself (a clone in /tmp, say)."""
    if request.param == "elsewhere":
        yield evidence_dir
        return
    path = Path(tempfile.mkdtemp(prefix="evidence-", dir=PROJECT_ROOT.parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def root_conftest_plugins() -> list[str]:
    for node in ast.parse((PROJECT_ROOT / "conftest.py").read_text()).body:
        target = (node.target if isinstance(node, ast.AnnAssign)
                  else node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "pytest_plugins" and node.value:
            return list(ast.literal_eval(node.value))
    raise AssertionError("the root conftest.py no longer assigns pytest_plugins")


def bundle_in(path: Path) -> list[str]:
    return sorted(name for name in BUNDLE if (path / name).is_file())


def test_the_installed_metadata_declares_both_plugins_under_their_pytest_plugins_names():
    declared = {ep.name: ep.value for ep in installed().entry_points if ep.group == "pytest11"}
    assert declared == PYPROJECT["project"]["entry-points"]["pytest11"], \
        f"the install is older than pyproject.toml: {INSTALL_HINT}"
    assert declared == {name: name for name in PLUGINS}
    # pytest skips a pytest_plugins name that is already registered: an entry point named as
    # the root conftest names the module is what keeps the two paths from registering twice.
    assert set(PLUGINS) <= set(root_conftest_plugins())


@pytest.mark.parametrize("autoload", ["entry points and root conftest", "root conftest only"])
def test_in_the_checkout_each_plugin_is_registered_once_from_the_checkout(autoload, evidence_dir):
    installed()
    env = {} if autoload.startswith("entry") else {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = run(PROJECT_ROOT, "-m", "unit", "tests/unit/test_evidence_parts.py", "--trace-config",
               f"--evidence-dir={evidence_dir}", **env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    registered = REGISTERED.findall(proc.stdout + proc.stderr)
    assert sorted(name for name, _ in registered) == sorted(PLUGINS), registered
    assert all(Path(file).is_relative_to(PROJECT_ROOT) for _, file in registered), registered
    assert bundle_in(evidence_dir) == sorted(BUNDLE)


def test_the_issues_command_with_the_folder_as_one_word_writes_the_bundle_there(evidence_dir):
    # No test path: the command of the issue (pytest -m unit --evidence-dir ...), narrowed to
    # one module by keyword so the child stays short.
    installed()
    proc = run(PROJECT_ROOT, "-m", "unit", "-k", "test_evidence_parts",
               f"--evidence-dir={evidence_dir}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"rootdir: {PROJECT_ROOT}" in proc.stdout
    assert bundle_in(evidence_dir) == sorted(BUNDLE)
    report = json.loads((evidence_dir / "report.json").read_text())
    assert {t["outcome"] for t in report["tests"] if "test_evidence_parts" in t["nodeid"]} \
        == {"passed"}


def test_the_issues_command_with_the_folder_as_a_separate_word_is_refused_with_the_fix(
        any_evidence_dir):
    # pytest picks the rootdir before any plugin's options are known (pytest #8846): the
    # existing folder counts as a test path, the rootdir comes from it, and pytest.ini is lost.
    installed()
    proc = run(PROJECT_ROOT, "-m", "unit", "--evidence-dir", str(any_evidence_dir))
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout[-2000:] + proc.stderr
    assert f"--evidence-dir={any_evidence_dir}" in proc.stderr
    assert f"EVIDENCE_DIR={any_evidence_dir}" in proc.stderr
    assert bundle_in(any_evidence_dir) == []


OUTSIDE_TEST = '''
    import os

    import pytest

    import evidence.plugin
    import harness.plugin


    @pytest.mark.control("4.2.1")
    def test_served_by_the_checkouts_plugins(pytestconfig, record_fact):
        for module in (harness.plugin, evidence.plugin):
            assert pytestconfig.pluginmanager.is_registered(module)
            assert module.__file__.startswith(os.environ["CHECKOUT"] + os.sep), module.__file__
        record_fact("plugins", "installed")
'''


@pytest.mark.parametrize("loading", ["entry points", "-p options"])
def test_outside_the_checkout_the_installed_plugins_serve_another_suite(loading, tmp_path,
                                                                         evidence_dir):
    installed()
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\n")
    (suite / "test_outside.py").write_text(textwrap.dedent(OUTSIDE_TEST))
    explicit = loading == "-p options"
    args = [arg for name in PLUGINS for arg in ("-p", name)] if explicit else []
    env = {"CHECKOUT": str(PROJECT_ROOT), **({"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
                                             if explicit else {})}
    # --stack-target is the harness plugin's option: unknown unless the plugin loaded.
    proc = run(suite, *args, "--stack-target", "sandbox", f"--evidence-dir={evidence_dir}",
               **env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((evidence_dir / "report.json").read_text())
    (test,) = report["tests"]
    assert test["nodeid"] == "test_outside.py::test_served_by_the_checkouts_plugins"
    assert (test["outcome"], test["controls"]) == ("passed", ["4.2.1"])
    assert "installed" in json.dumps(test["facts"])
