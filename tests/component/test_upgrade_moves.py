"""The upgrade check against real cdktf output: a database construct renamed between two
synths of a one-cluster stack fails the check, and the cdktf call the failure prints
(``move_from_id``) makes it pass (evidence/upgrade_safety.py)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from evidence.upgrade_safety import address_changes
from stack.synthesis.synth import PROJECT_ROOT, child_env

pytestmark = pytest.mark.component

# Three versions of one stack in one child process (one binding import): the release, the
# release with its database construct renamed, and the rename with the printed fix applied.
_SYNTH = textwrap.dedent("""
    import json, sys
    from stack.synthesis.bindings import use_lean_provider_package
    use_lean_provider_package()
    from cdktf import App, TerraformStack
    from constructs import Construct
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster

    def stack(outdir, construct_id, move_from=None):
        app = App(outdir=outdir)
        root = TerraformStack(app, "upgrade")
        AwsProvider(root, "aws", region="us-east-1")
        group = Construct(root, construct_id)
        cluster = RdsCluster(group, "cluster", cluster_identifier="aurora-dev-up1",
                             engine="aurora-mysql", storage_encrypted=True)
        if move_from:
            cluster.move_from_id(move_from)
        app.synth()

    out = sys.argv[1]
    stack(out + "/base", "database")
    stack(out + "/renamed", "db")
    base = json.load(open(out + "/base/stacks/upgrade/cdk.tf.json"))
    (old,) = base["resource"]["aws_rds_cluster"]
    stack(out + "/fixed", "db", move_from="aws_rds_cluster." + old)
""")


@pytest.fixture(scope="module")
def synths(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("upgrade-moves")
    proc = subprocess.run([sys.executable, "-c", _SYNTH, str(out)], cwd=PROJECT_ROOT,
                          env=child_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {name: json.loads((out / name / "stacks" / "upgrade" / "cdk.tf.json").read_text())
            for name in ("base", "renamed", "fixed")}


def test_renaming_the_database_construct_fails_the_upgrade_check(synths):
    (change,) = address_changes(synths["base"], synths["renamed"])
    (old,) = synths["base"]["resource"]["aws_rds_cluster"]
    (new,) = synths["renamed"]["resource"]["aws_rds_cluster"]
    assert change.old_address == f"aws_rds_cluster.{old}" != f"aws_rds_cluster.{new}"
    assert change.new_address == f"aws_rds_cluster.{new}"
    assert f'move_from_id("aws_rds_cluster.{old}")' in change.explain()


def test_the_printed_move_from_id_call_makes_it_pass(synths):
    (old,) = synths["base"]["resource"]["aws_rds_cluster"]
    assert any(m.get("from") == f"aws_rds_cluster.{old}" for m in synths["fixed"].get("moved", [])), \
        json.dumps(synths["fixed"].get("moved"))
    assert address_changes(synths["base"], synths["fixed"]) == []
