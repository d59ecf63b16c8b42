"""bin/setup skips pip only when the editable install, the pyproject.toml and every pin agree."""
from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from stack.synthesis.synth import PROJECT_ROOT

pytestmark = pytest.mark.unit

PYTEST = f"pytest=={importlib.metadata.version('pytest')}"


def load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "install_is_current", PROJECT_ROOT / "bin" / "install_is_current.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The check pointed at a checkout in tmp_path, installed editable from there and recorded,
    with pins that match what this interpreter has."""
    module = load_check()
    monkeypatch.setattr(module, "ROOT", tmp_path)
    monkeypatch.setattr(module, "PYPROJECT", tmp_path / "pyproject.toml")
    monkeypatch.setattr(module, "STAMP", tmp_path / "build" / "pyproject.sha256")
    monkeypatch.setattr(module, "editable_install", lambda name: (tmp_path.as_uri(), None))
    write_pins(module, [PYTEST], dev=["ruff==" + importlib.metadata.version("ruff")])
    assert module.main(["--record"]) == 0
    return module


def write_pins(module: ModuleType, pins: list[str], dev: list[str] | None = None) -> None:
    dev_table = f"\n[project.optional-dependencies]\ndev = {dev!r}\n" if dev else ""
    module.PYPROJECT.write_text(f'[project]\nname = "x"\ndependencies = {pins!r}\n{dev_table}')


def test_recorded_install_with_every_pin_met_is_current(check, capsys):
    assert check.problem() is None
    assert check.main([]) == 0
    assert "current" in capsys.readouterr().out


def test_an_install_from_another_checkout_or_none_is_not(check, monkeypatch, tmp_path):
    for found in (("file:///elsewhere", None), None):
        monkeypatch.setattr(check, "editable_install", lambda name, found=found: found)
        assert f"not installed editable from {tmp_path}" in check.problem()
        assert check.main([]) == 1


def test_an_edited_pyproject_is_not_current_until_recorded_again(check):
    write_pins(check, [PYTEST, "PyYAML==" + importlib.metadata.version("PyYAML")])
    assert check.problem() == "pyproject.toml changed since the last install"
    check.main(["--record"])
    assert check.problem() is None


@pytest.mark.parametrize("pin,why", [("pytest==0.0.1", "installed)"),
                                     ("no-such-distribution-x==1.0", "(not installed)")])
def test_a_pin_the_environment_does_not_meet_is_named(check, pin, why):
    write_pins(check, [pin])
    check.main(["--record"])
    reason = check.problem()
    assert reason.startswith("not as pinned: ") and pin in reason and reason.endswith(why)
