"""The sweeper (`python -m harness.sweep`) against a real moto server: resources left behind
on purpose for two runs; the dry run lists one run's and deletes nothing, --delete removes
exactly that run's (in dependency order), the other run's stay; unsafe targets are refused.
The leftover check after a destroy is the same inventory: it sees what the sweeper sees."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import sandbox, sweep
from harness.aws_clients import AwsClients
from harness.sweep import DELETE_ORDER, Found, Sweep, leftovers
from tests.component.leftover_plant import PLANTED_KINDS, ZONE, client, plant

pytestmark = pytest.mark.component

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN, OTHER = "swp7k2q9", "swp7k2q"  # the other run's suffix is a prefix of this one's
# What harness/leftovers.py listed before the leftover check became the inventory (#14 item 4),
# in the inventory's words: each must still be found.
OLD_LEFTOVER_LIST = {
    "s3 bucket", "ec2 vpc", "ec2 subnet", "ec2 security group", "ec2 nat gateway",
    "ec2 elastic ip", "ec2 launch template", "ec2 instance", "elbv2 load balancer",
    "elbv2 target group", "autoscaling group", "rds cluster", "rds instance", "secret",
    "lambda function", "sns topic", "log group", "kms alias", "iam role", "wafv2 web acl",
    "cloudfront distribution", "ssm parameter", "sqs queue", "acm certificate"}


def sweep_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), full.get("PYTHONPATH")]))
    full.pop("STACK_CONFIG", None)
    full.update(env)
    return subprocess.run([sys.executable, "-m", "harness.sweep", *args], cwd=PROJECT_ROOT,
                          env=full, capture_output=True, text=True, timeout=240)


def found(endpoint: str, suffix: str) -> list[Found]:
    return Sweep(AwsClients("us-east-1", endpoint=endpoint), suffix, log=lambda _: None).find()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    endpoint, pid = sandbox.start(tmp_path_factory.mktemp("sweep") / "moto.log")
    try:
        ids = plant(endpoint, RUN)
        plant(endpoint, OTHER)
        yield endpoint, ids
    finally:
        sandbox.stop(pid)


def test_refuses_unsafe_targets_and_deletes_nothing(planted, tmp_path, monkeypatch):
    """Refused (exit 2, the reason, nothing touched): an account not on the allow-list, no
    allow-list at all, a non-loopback sandbox, a suffix too short to be a run's. An
    allow-listed account is swept (dry run). STS is moto via AWS_ENDPOINT_URL. (In-process
    main(): the command line itself is exercised by the next test.)"""
    endpoint, _ = planted
    before = len(found(endpoint, RUN))
    for key, value in dict(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                           AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1").items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("STACK_CONFIG", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    other_account = tmp_path / "other.json"
    other_account.write_text(json.dumps({"allowed_account_ids": ["111111111111"]}))
    moto_account = tmp_path / "moto.json"
    moto_account.write_text(json.dumps({"allowed_account_ids": ["123456789012"]}))
    refused = [
        (["--suffix", RUN, "--target", "aws", f"--stack-config={other_account}", "--delete"],
         "refusing to sweep account 123456789012: not in allowed_account_ids ['111111111111']"),
        (["--suffix", RUN, "--target", "aws", "--delete"], "--target aws needs --stack-config"),
        (["--suffix", RUN, "--endpoint", "http://192.168.1.10:5000", "--delete"], "only loopback"),
        (["--suffix", RUN, "--endpoint", "http://[::2]:5000", "--delete"], "only loopback"),
        (["--suffix", "sw", "--endpoint", endpoint, "--delete"], "at least 4 characters"),
        (["--suffix", "Swp7", "--endpoint", endpoint, "--delete"], "lowercase"),
    ]
    for args, message in refused:
        out = io.StringIO()
        assert sweep.main(args, out=out) == 2, (args, out.getvalue())
        assert message in out.getvalue(), (args, out.getvalue())
    assert len(found(endpoint, RUN)) == before

    out = io.StringIO()
    assert sweep.main(["--suffix", RUN, "--target", "aws", f"--stack-config={moto_account}"],
                      out=out) == 0, out.getvalue()
    assert f"{before} resource(s) carry suffix {RUN} (aws)" in out.getvalue()


def test_the_leftover_check_after_a_destroy_counts_only_this_runs_resources(planted):
    """The leftover check matches suffixes as the sweeper does: the other run's suffix is a
    prefix of this one's, and none of this run's resources is the other run's leftover."""
    endpoint, _ = planted
    clients = AwsClients("us-east-1", endpoint=endpoint)
    check = leftovers(clients, OTHER)
    assert not check.unchecked
    assert check.leftovers, "the other run's planted resources were not seen at all"
    assert not [x for x in check.lines() if RUN in x], check.lines()
    assert len(leftovers(clients, RUN).leftovers) == len(check.leftovers)  # the same plant
    assert not check.clean


def test_the_leftover_check_and_the_sweeper_see_the_same_set(planted):
    """One inventory: what the leftover check reports is exactly what the sweeper's command
    line lists, every planted kind is in it (and every kind harness/leftovers.py listed),
    and each leftover names the command that sweeps it."""
    endpoint, _ = planted
    check = leftovers(AwsClients("us-east-1", endpoint=endpoint), RUN)
    assert not check.unchecked, check.unchecked
    kinds = {x.found.kind for x in check.leftovers}
    assert kinds == PLANTED_KINDS, PLANTED_KINDS ^ kinds
    assert OLD_LEFTOVER_LIST <= kinds, OLD_LEFTOVER_LIST - kinds

    dry = sweep_cli("--suffix", RUN, "--endpoint", endpoint)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    listed = {line.strip() for line in dry.stdout.splitlines()[1:] if line.startswith("  ")}
    assert listed == {x.found.line().strip() for x in check.leftovers}, (
        listed ^ {x.found.line().strip() for x in check.leftovers})
    command = f"python -m harness.sweep --suffix {RUN} --endpoint {endpoint} --delete"
    assert {x.command for x in check.leftovers} == {command}
    assert all(line.startswith("LEFTOVER ") and line.endswith(command) for line in check.lines())


def test_dry_run_lists_then_delete_removes_only_this_runs_resources(planted):
    """Dry run: every planted resource listed (by name, tag, or as part of a listed VPC),
    nothing deleted. --delete: all of this run's gone, in dependency order, the other
    run's untouched."""
    endpoint, ids = planted
    before = found(endpoint, RUN)
    zone_before = records(endpoint, ids.zone_id)
    other_before = len(found(endpoint, OTHER))
    kinds = {f.kind for f in before}
    assert kinds == set(DELETE_ORDER), set(DELETE_ORDER) ^ kinds  # every kind it can delete
    assert not [f for f in before if f.kind == "tagged, no deleter"]
    assert {f.why for f in before} >= {"name", "tag", "vpc", "member"}

    dry = sweep_cli("--suffix", RUN, "--endpoint", endpoint)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"{len(before)} resource(s) carry suffix {RUN}" in dry.stdout
    assert "dry run: nothing deleted" in dry.stdout and "deleted  " not in dry.stdout
    assert len(found(endpoint, RUN)) == len(before)

    deleted = sweep_cli("--suffix", RUN, "--endpoint", endpoint, "--delete")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert deleted.stdout.count("\ndeleted  ") == len(before)
    # "deleted  <kind, padded to 28> <label>  (by ...)"
    order = [line[9:37].strip() for line in deleted.stdout.splitlines() if line.startswith("deleted  ")]
    positions = [DELETE_ORDER.index(kind) for kind in order]
    assert positions == sorted(positions), "not deleted in dependency order"
    assert found(endpoint, RUN) == []
    assert len(found(endpoint, OTHER)) == other_before  # the other run is untouched

    # What "deleted" means per type, checked at the source.
    s3 = client(endpoint, "s3")
    assert ids.bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    key = client(endpoint, "kms").describe_key(KeyId=ids.tag_only_key)["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    assert ids.vpc not in [v["VpcId"] for v in client(endpoint, "ec2").describe_vpcs()["Vpcs"]]
    secrets = client(endpoint, "secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert not [s for s in secrets if RUN in s["Name"]]  # force-deleted, no recovery window
    # The zone is not the run's: it stays, with the other run's records and only those.
    assert records(endpoint, ids.zone_id) == [r for r in zone_before if RUN not in r]
    assert len(records(endpoint, ids.zone_id)) == len(zone_before) - 2
    assert leftovers(AwsClients("us-east-1", endpoint=endpoint), RUN).clean


def records(endpoint: str, zone_id: str) -> list[str]:
    sets = client(endpoint, "route53").list_resource_record_sets(HostedZoneId=zone_id)
    return sorted(f"{r['Name']} {r['Type']} {r.get('AliasTarget', {}).get('DNSName', '')}"
                  for r in sets["ResourceRecordSets"] if r["Name"] != ZONE)
