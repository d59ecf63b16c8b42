"""harness.sweep's layout (issue #14 item 4): one module per service group holds its finder and
the deleters of every kind that finder finds, so adding a resource kind touches one file; the
delete order follows the stages; every wait the command line makes is stated in its help.
No cloud, no server: the registries and the help only."""
from __future__ import annotations

import inspect
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import harness.sweep as sweep
from harness.sweep.bounds import CALLS, PROBE, ROUNDS
from harness.sweep.cli import parser
from harness.sweep.core import FINDERS, KINDS, Stage

pytestmark = pytest.mark.unit

PACKAGE = Path(sweep.__file__).parent
GROUPS = {"network", "compute", "load_balancing", "database", "app_services", "keys_and_iam",
          "edge_and_storage"}


def _group(module_name: str) -> str:
    return module_name.rsplit(".", 1)[-1]


def test_each_group_module_has_one_finder_and_the_deleters_of_what_it_finds():
    assert Counter(_group(f.__module__) for f in FINDERS) == Counter(GROUPS)
    for kind in KINDS.values():
        group = _group(kind.delete.__module__)
        assert group in GROUPS, (kind.name, group)
        # What finds the kind is in the same file as its deleter (registrations aside).
        finding = [line for line in inspect.getsource(sys.modules[kind.delete.__module__])
                   .splitlines() if not line.startswith("@deleter(")]
        assert any(f'"{kind.name}"' in line for line in finding), (kind.name, group)


def test_the_network_group_finds_first_and_every_module_stays_small():
    assert _group(FINDERS[0].__module__) == "network"  # the others claim by its matched VPCs
    for path in PACKAGE.glob("*.py"):
        assert len(path.read_text().splitlines()) <= 300, path.name


def test_delete_order_follows_the_stages_and_every_stage_has_kinds():
    order = sweep.DELETE_ORDER
    assert sorted(order) == sorted(KINDS)
    stages = [KINDS[k].stage for k in order]
    assert stages == sorted(stages)
    assert set(stages) == set(Stage)
    # Dependents first: DNS and the CDN before the load balancer they point at; instances
    # before their subnets; rules before any group; the VPC after all that sits in it.
    for before, after in (("route53 record", "elbv2 load balancer"),
                          ("cloudfront distribution", "s3 bucket"),
                          ("ec2 instance", "ec2 subnet"),
                          ("ec2 security group rules", "ec2 security group"),
                          ("ec2 subnet", "ec2 vpc"), ("rds cluster", "kms key"),
                          ("elbv2 load balancer", "acm certificate")):
        assert order.index(before) < order.index(after), (before, after)


def test_the_help_states_every_bound():
    text = parser().format_help()
    for bound in (PROBE, CALLS):
        assert bound.describe() in text
        assert f"at most {bound.bound_s:g} s" in text
    assert ROUNDS.describe() in text and f"{ROUNDS.rounds} rounds" in text
    for code in ("0 nothing left", "1 something remains", "2 refused"):
        assert code in text


def test_the_command_line_help_runs():
    proc = subprocess.run([sys.executable, "-m", "harness.sweep", "--help"], capture_output=True,
                          text=True, timeout=60, cwd=PACKAGE.parents[1], check=False)
    assert proc.returncode == 0, proc.stderr
    assert "--suffix" in proc.stdout and PROBE.describe() in proc.stdout
