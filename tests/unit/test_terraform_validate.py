"""terraform validate of each synthesized stack through the offline provider mirror.

The three validations run concurrently (each is mostly the provider loading its schema).
A success is remembered under the synth cache, keyed by the JSON's bytes, the terraform
version and the mirror: validating identical input with identical tools proves nothing new.
STACK_SYNTH_CACHE=off validates every time.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.mirror import require_mirror, write_cli_config
from stack.synth import PROJECT_ROOT
from stack.synth_cache import default_cache_dir

pytestmark = pytest.mark.unit

CONFIGS = ("prod", "imported", "sandbox")
VALID = "Success! The configuration is valid."


def _marker(json_text: str, mirror: Path, tf_version: str) -> Path | None:
    if os.environ.get("STACK_SYNTH_CACHE") == "off":
        return None
    key = hashlib.sha256("\0".join([json_text, tf_version, str(mirror)]).encode()).hexdigest()[:32]
    return default_cache_dir(PROJECT_ROOT) / "validated" / key


def _validate(stack_dir: Path, workdir: Path, mirror: Path) -> str:
    shutil.copytree(stack_dir, workdir)
    env = {**os.environ, "TF_IN_AUTOMATION": "1",
           "TF_CLI_CONFIG_FILE": str(write_cli_config(workdir / "terraform.rc", mirror))}
    out = []
    for cmd in (["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                ["terraform", "validate", "-no-color"]):
        proc = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
        out.append(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            break
    return "\n".join(out)


@pytest.fixture(scope="session")
def validations(request, tmp_path_factory) -> dict[str, str]:
    assert shutil.which("terraform"), "terraform is not on PATH: run bin/setup"
    mirror = require_mirror()
    tf_version = subprocess.run(["terraform", "version", "-json"], capture_output=True,
                                text=True, timeout=60).stdout
    docs = {name: request.getfixturevalue(name) for name in CONFIGS}
    results, todo = {}, {}
    for name, doc in docs.items():
        marker = _marker(doc.text, mirror, tf_version)
        if marker is not None and marker.is_file():
            results[name] = marker.read_text()
        else:
            todo[name] = marker
    root = tmp_path_factory.mktemp("validate")
    with ThreadPoolExecutor(max_workers=len(CONFIGS)) as pool:
        futures = {name: pool.submit(_validate, docs[name].path.parent, root / name, mirror)
                   for name in todo}
    for name, future in futures.items():
        results[name] = future.result()
        if todo[name] is not None and VALID in results[name]:
            todo[name].parent.mkdir(parents=True, exist_ok=True)
            todo[name].write_text(results[name])
    return results


@pytest.mark.control("2.2.1")
@pytest.mark.parametrize("config", CONFIGS)
def test_synthesized_stack_is_valid_terraform(config, validations):
    assert VALID in validations[config], validations[config]
