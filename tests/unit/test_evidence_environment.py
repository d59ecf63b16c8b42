"""What the bundle says about the run's target: read from the harness's deployment record,
through the harness's public hook (pytest_stack_deployment_summary)."""
from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from evidence import environment
from harness.options import Options
from harness.plugin import Harness
from harness.record import Deployment, Status, Target
from harness.run_config import planned_config

pytestmark = pytest.mark.unit


def _config_with(harness: Harness | None) -> Any:
    """A config as evidence sees it: the harness's hook where the harness plugin is loaded."""
    if harness is None:
        return SimpleNamespace(hook=SimpleNamespace())
    return SimpleNamespace(hook=SimpleNamespace(
        pytest_stack_deployment_summary=lambda config: harness.summary()))


def test_a_run_without_a_deployment_says_unit_run(tmp_path):
    info = environment.deployment_info(_config_with(None))
    assert set(info.values()) == {environment.NOT_DEPLOYED}
    opts = Options(target="sandbox", suffix="tnone123", workdir_root=tmp_path)
    harness = Harness(config=None, opts=opts, planned=planned_config(opts), run_id="run-1",
                      is_owner=True)
    info = environment.deployment_info(_config_with(harness))
    assert set(info.values()) == {environment.NOT_DEPLOYED}


def test_target_suffix_region_and_account_come_from_this_runs_deployment(tmp_path):
    opts = Options(target="sandbox", suffix="tabc1234", workdir_root=tmp_path)
    harness = Harness(config=None, opts=opts, planned=planned_config(opts), run_id="run-1",
                      is_owner=True)
    wd = opts.workdir.create()
    record = wd.save_deployment(Deployment(
        suffix="tabc1234", run_id="run-1", target=Target.SANDBOX, region="us-east-1",
        status=Status.DESTROYED))
    wd.outputs_file.write_text(json.dumps({
        "environment": "dev", "alb_arn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                                         "loadbalancer/app/alb-dev-tabc1234/50dc6c495c0c9188"}))
    info = environment.deployment_info(_config_with(harness))
    assert info == {"target": "sandbox", "suffix": "tabc1234", "region": "us-east-1",
                    "account_id": "123456789012", "deployment_status": "destroyed"}

    wd.save_deployment(record.model_copy(update={"run_id": "an-earlier-run"}))
    assert environment.deployment_info(_config_with(harness))["target"] == environment.NOT_DEPLOYED


def test_a_damaged_record_is_never_reported_as_not_deployed(tmp_path):
    opts = Options(target="sandbox", suffix="tbad1234", workdir_root=tmp_path)
    harness = Harness(config=None, opts=opts, planned=planned_config(opts), run_id="run-1",
                      is_owner=True)
    opts.workdir.create().deployment_file.write_text("{not json")
    info = environment.deployment_info(_config_with(harness))
    assert environment.NOT_DEPLOYED not in info.values()
    assert info["deployment_status"].startswith("unknown: ")
    assert "python -m harness.sweep --suffix tbad1234" in info["deployment_status"]
