"""The lean provider import (stack/synthesis/bindings.py) synthesizes exactly what the full import does.

Two synths of the production-like configuration (own domain: ACM, Route 53, alerts), one per
import mode, then a byte-for-byte comparison of everything written, assets included.
About 30 s: the full import alone is ~23 s of it.
"""
from __future__ import annotations

import filecmp
import subprocess
import sys
import time
from pathlib import Path

import pytest

from stack.synthesis.bindings import FULL_IMPORT_ENV, PACKAGE
from stack.synthesis.synth import PROJECT_ROOT, child_env, synthesize
from tests.unit.conftest import PRODUCTION

pytestmark = pytest.mark.component


def _differences(left: Path, right: Path) -> list[str]:
    cmp = filecmp.dircmp(left, right, ignore=["synth-batch.json"])  # names its own outdir
    out = [f"only in one: {n}" for n in cmp.left_only + cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(left, right, cmp.common_files, shallow=False)
    out += [f"differs: {n}" for n in mismatch + errors]
    for sub in cmp.common_dirs:
        out += [f"{sub}/{d}" for d in _differences(left / sub, right / sub)]
    return out


def test_lean_and_full_import_synthesize_identical_output(tmp_path, monkeypatch):
    seconds = {}
    for mode in ("full", "lean"):
        if mode == "full":
            monkeypatch.setenv(FULL_IMPORT_ENV, "1")
        else:
            monkeypatch.delenv(FULL_IMPORT_ENV, raising=False)
        started = time.monotonic()
        synthesize(PRODUCTION, tmp_path / mode)
        seconds[mode] = time.monotonic() - started
    print(f"synth seconds: full {seconds['full']:.1f}, lean {seconds['lean']:.1f}")
    assert (tmp_path / "lean" / "stacks" / "platform" / "cdk.tf.json").stat().st_size > 100_000
    diffs = _differences(tmp_path / "full", tmp_path / "lean")
    assert diffs == [], "lean import changed the synthesized output:\n" + "\n".join(diffs)


def _probe(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, env={**child_env(), **env})


def test_lean_package_loads_no_submodule_until_one_is_named():
    proc = _probe(
        "import sys\n"
        "from stack.synthesis.bindings import use_lean_provider_package as lean\n"
        f"print(lean(), lean(), sum(k.startswith('{PACKAGE}.') for k in sys.modules))\n"
        f"import {PACKAGE} as p\n"
        "try:\n    p.no_such_resource\nexcept AttributeError as e:\n    print('AttributeError', e)\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "lean lean 0", lines
    assert lines[1].startswith("AttributeError") and "no_such_resource" in lines[1]


def test_a_bad_full_import_setting_is_refused_before_anything_is_imported(tmp_path):
    config = tmp_path / "config.json"
    config.write_text("{}")
    proc = subprocess.run([sys.executable, "-m", "stack.cli", "--config", str(config),
                           "--outdir", str(tmp_path / "out")], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=60, env={**child_env(), FULL_IMPORT_ENV: "yes"})
    assert proc.returncode == 2, proc.stderr
    assert f"{FULL_IMPORT_ENV}='yes'" in proc.stderr and "use 1" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_full_import_is_kept_when_asked_for():
    proc = _probe("from stack.synthesis.bindings import use_lean_provider_package as lean; print(lean())",
                  **{FULL_IMPORT_ENV: "1"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "full"
