"""terraform validate of each synthesized stack through the offline provider mirror."""
import os
import shutil
import subprocess

import pytest

from harness.mirror import require_mirror, write_cli_config

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("config", ["prod", "imported", "sandbox"])
def test_synthesized_stack_is_valid_terraform(config, request, tmp_path):
    assert shutil.which("terraform"), "terraform is not on PATH: run bin/setup"
    doc = request.getfixturevalue(config)
    workdir = doc.path.parent
    cli_config = write_cli_config(tmp_path / "terraform.rc", require_mirror())
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(cli_config), "TF_IN_AUTOMATION": "1",
           "TF_DATA_DIR": str(tmp_path / ".terraform")}
    init = subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stdout + init.stderr
    result = subprocess.run(["terraform", "validate", "-no-color"], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success! The configuration is valid." in result.stdout
