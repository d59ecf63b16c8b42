"""terraform validate of each synthesized stack through the offline provider mirror.

A success is remembered under the synth cache, keyed by the JSON's bytes, the terraform
version and the mirror: validating identical input with identical tools again proves
nothing new. STACK_SYNTH_CACHE=off validates every time.
"""
import hashlib
import os
import shutil
import subprocess

import pytest

from harness.mirror import require_mirror, write_cli_config
from stack.synth import PROJECT_ROOT
from stack.synth_cache import default_cache_dir

pytestmark = pytest.mark.unit


def _validated_marker(json_text: str, mirror) -> "os.PathLike | None":
    if os.environ.get("STACK_SYNTH_CACHE") == "off":
        return None
    version = subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True,
                             timeout=60).stdout
    key = hashlib.sha256("\0".join([json_text, version, str(mirror)]).encode()).hexdigest()[:32]
    return default_cache_dir(PROJECT_ROOT) / "validated" / key


@pytest.mark.parametrize("config", ["prod", "imported", "sandbox"])
def test_synthesized_stack_is_valid_terraform(config, request, tmp_path):
    assert shutil.which("terraform"), "terraform is not on PATH: run bin/setup"
    doc = request.getfixturevalue(config)
    mirror = require_mirror()
    marker = _validated_marker(doc.text, mirror)
    if marker is not None and marker.is_file():
        assert "Success! The configuration is valid." in marker.read_text()
        return
    workdir = tmp_path / "validate"
    shutil.copytree(doc.path.parent, workdir)
    cli_config = write_cli_config(tmp_path / "terraform.rc", mirror)
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=180)
    assert init.returncode == 0, init.stdout + init.stderr
    result = subprocess.run(["terraform", "validate", "-no-color"], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! The configuration is valid." in result.stdout
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(result.stdout)
