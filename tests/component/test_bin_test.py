"""bin/test's own setting, TEST_WORKERS, refused before setup or pytest runs."""
from __future__ import annotations

import os
import subprocess

import pytest

from tests.component.child_pytest import PROJECT_ROOT

pytestmark = pytest.mark.component


@pytest.mark.parametrize("value", ["abc", "-1", "2.5", " "])
def test_a_worker_count_that_is_not_a_whole_number_is_refused_naming_the_setting(value):
    env = {**os.environ, "TEST_WORKERS": value}
    proc = subprocess.run(["bash", str(PROJECT_ROOT / "bin" / "test")], env=env,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "TEST_WORKERS=" in proc.stderr and "whole number" in proc.stderr
    assert "[setup" not in proc.stdout + proc.stderr, "setup ran before the refusal"
