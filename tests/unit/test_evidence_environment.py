"""What the bundle says about the run's target: read from the harness's deployment record."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from evidence import environment
from harness.deployment import Options
from harness.plugin import _KEY, Harness
from harness.workdir import StackWorkdir

pytestmark = pytest.mark.unit


def _config_with(harness):
    stash = {_KEY: harness} if harness else {}
    return SimpleNamespace(stash=SimpleNamespace(get=lambda key, default=None: stash.get(key, default)))


def test_a_run_without_a_deployment_says_unit_run():
    info = environment.deployment_info(_config_with(None))
    assert set(info.values()) == {environment.NOT_DEPLOYED}


def test_target_suffix_region_and_account_come_from_this_runs_deployment(tmp_path):
    opts = Options(target="sandbox", suffix="tabc1234", workdir_root=tmp_path)
    harness = Harness(config=None, opts=opts, run_id="run-1", is_owner=True)
    wd = StackWorkdir(tmp_path, "tabc1234").create()
    wd.update_deployment(run_id="run-1", target="sandbox", region="us-east-1", status="destroyed")
    wd.outputs_file.write_text(json.dumps({
        "environment": "dev", "alb_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                         "loadbalancer/app/alb-dev-tabc1234/50dc6c495c0c9188"}))
    info = environment.deployment_info(_config_with(harness))
    assert info == {"target": "sandbox", "suffix": "tabc1234", "region": "us-east-1",
                    "account_id": "123456789012", "deployment_status": "destroyed"}

    wd.update_deployment(run_id="an-earlier-run")
    assert environment.deployment_info(_config_with(harness))["target"] == environment.NOT_DEPLOYED
