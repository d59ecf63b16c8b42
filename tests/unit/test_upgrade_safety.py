"""Release sign-off, per commit: this stack upgrades the base release in place, losing nothing
that holds data (evidence/upgrade_safety.py, evidence/base_synth.py)."""
from __future__ import annotations

import copy
import os
from typing import Any

import pytest

from evidence import base_synth
from evidence.base_synth import non_default_settings
from evidence.upgrade_safety import STATEFUL_TYPES, address_changes, change_record, summary
from stack.synthesis.synth import PROJECT_ROOT
from tests.unit.conftest import PRODUCTION

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def base(request) -> tuple[base_synth.Base, dict[str, Any]]:
    ref = request.config.getoption("stack_base", None) or os.environ.get("STACK_BASE")
    try:
        found = base_synth.resolve(PROJECT_ROOT, ref)
        return found, base_synth.synthesize_base(PROJECT_ROOT, found,
                                                 non_default_settings(PRODUCTION))
    except base_synth.BaseError as exc:
        pytest.fail(f"upgrade check: {exc}", pytrace=False)


@pytest.mark.control("6.5.1", "6.5.2")
def test_every_stateful_resource_of_the_base_release_keeps_its_address(
        base, prod, record_fact, evidence_bundle):
    found, base_doc = base
    changes = address_changes(base_doc, prod.doc)
    record = change_record(base_doc, prod.doc)
    evidence_bundle.write_json("upgrade/change.json", {
        "check": "per commit (synthesized JSON of the production-shaped config)",
        "base_ref": found.ref, "base_commit": found.commit,
        "head_commit": base_synth.head_commit(PROJECT_ROOT), **record})
    record_fact("upgrade_base", f"{found.ref} {found.commit}")
    record_fact("stateful_resources_compared", sum(
        len(base_doc.get("resource", {}).get(t, {})) for t in STATEFUL_TYPES))
    record_fact("upgrade_changes_by_type", record["by_type"])
    assert not changes, (f"upgrading from {found.ref} ({found.commit[:12]}) would replace or "
                         f"destroy what holds data:\n\n{summary(changes)}")


# ---------------------------------------------------------------- the check catches what it claims
def _renamed(doc: dict[str, Any], rtype: str, old: str, new: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["resource"][rtype] = {(new if name == old else name): body
                              for name, body in out["resource"][rtype].items()}
    return out


def _cluster_name(doc: dict[str, Any]) -> str:
    (name,) = doc["resource"]["aws_rds_cluster"]
    return name


def test_a_renamed_database_construct_fails_with_the_moved_block_that_keeps_it(prod):
    old = _cluster_name(prod.doc)
    head = _renamed(prod.doc, "aws_rds_cluster", old, "db_cluster_0A1B2C3D")
    (change,) = address_changes(prod.doc, head)
    assert (change.old_address, change.new_address) == (
        f"aws_rds_cluster.{old}", "aws_rds_cluster.db_cluster_0A1B2C3D")
    text = change.explain()
    assert f"from = aws_rds_cluster.{old}" in text and "to   = aws_rds_cluster.db_cluster_0A1B2C3D" in text
    assert f'move_from_id("aws_rds_cluster.{old}")' in text


def test_the_same_rename_with_a_moved_block_passes(prod):
    old = _cluster_name(prod.doc)
    head = _renamed(prod.doc, "aws_rds_cluster", old, "db_cluster_0A1B2C3D")
    head["moved"] = [{"from": f"aws_rds_cluster.{old}", "to": "aws_rds_cluster.db_cluster_0A1B2C3D"}]
    assert address_changes(prod.doc, head) == []


def test_a_moved_block_to_an_address_that_does_not_exist_still_fails(prod):
    old = _cluster_name(prod.doc)
    head = _renamed(prod.doc, "aws_rds_cluster", old, "db_cluster_0A1B2C3D")
    head["moved"] = [{"from": f"aws_rds_cluster.{old}", "to": "aws_rds_cluster.typo"}]
    assert [c.old_address for c in address_changes(prod.doc, head)] == [f"aws_rds_cluster.{old}"]


@pytest.mark.parametrize("rtype", sorted(STATEFUL_TYPES))
def test_a_removed_stateful_resource_fails_as_a_destroy(prod, rtype):
    head = copy.deepcopy(prod.doc)
    name = sorted(head["resource"][rtype])[0]
    del head["resource"][rtype][name]
    (change,) = address_changes(prod.doc, head)
    assert change.old_address == f"{rtype}.{name}" and change.new_address is None
    assert "DESTROY" in change.explain()


def test_renaming_what_holds_no_data_passes(prod):
    (name,) = [n for n in prod.doc["resource"]["aws_lb"]]
    head = _renamed(prod.doc, "aws_lb", name, "alb_renamed_0A1B2C3D")
    assert address_changes(prod.doc, head) == []


def test_the_base_is_given_only_what_differs_from_the_defaults():
    settings = non_default_settings(PRODUCTION)
    assert settings["environment"] == "prod" and settings["waf_rate_limit"] == 1500
    assert settings["database"] == {"deletion_protection": True, "skip_final_snapshot": False}
    assert "capacity" not in settings and "region" not in settings


def test_the_change_record_counts_by_type_and_keeps_moves_apart(prod):
    old = _cluster_name(prod.doc)
    head = _renamed(prod.doc, "aws_rds_cluster", old, "db_cluster_0A1B2C3D")
    head["moved"] = [{"from": f"aws_rds_cluster.{old}", "to": "aws_rds_cluster.db_cluster_0A1B2C3D"}]
    (lb_name,) = head["resource"]["aws_lb"]
    head["resource"]["aws_lb"][lb_name] = {**head["resource"]["aws_lb"][lb_name], "idle_timeout": 61}
    del head["resource"]["aws_sns_topic"][sorted(head["resource"]["aws_sns_topic"])[0]]
    record = change_record(prod.doc, head)
    assert record["by_type"] == {"added": {}, "changed": {"aws_lb": 1},
                                 "moved": {"aws_rds_cluster": 1}, "removed": {"aws_sns_topic": 1}}
    assert record["stateful_verdict"] == "kept" and record["stateful_changes"] == []
    assert change_record(prod.doc, prod.doc)["by_type"] == {
        "added": {}, "changed": {}, "moved": {}, "removed": {}}


def _summary(upgrade):
    from evidence import bundle
    meta = {"standard_version": "4.0.1", "run_id": "r1", "started": "s", "finished": "f",
            "table_digest": "d", "tools": {}}
    return bundle.summary_md(meta, [], None, upgrade)


def test_the_summary_shows_the_upgrade_before_everything_else(prod):
    old = _cluster_name(prod.doc)
    head = _renamed(prod.doc, "aws_rds_cluster", old, "db_cluster_0A1B2C3D")
    upgrade = {"check": "per commit", "base_ref": "v1.0.0", "base_commit": "a" * 40,
               "head_commit": "b" * 40, **change_record(prod.doc, head)}
    text = _summary(upgrade)
    first_section = text.split("\n## ")[1]
    assert first_section.startswith("Upgrade (PCI DSS 6.5.1, 6.5.2)")
    assert "**1 would be replaced or destroyed:**" in first_section
    assert f"`aws_rds_cluster.{old}` -> `aws_rds_cluster.db_cluster_0A1B2C3D`" in first_section
    assert "| added | aws_rds_cluster 1 |" in first_section
    assert "| removed | aws_rds_cluster 1 |" in first_section
    assert text.index("## Upgrade") < text.index("Run `r1`") < text.index("## Result")
    kept = _summary({**upgrade, **change_record(prod.doc, prod.doc)})
    assert "**every one keeps its address.**" in kept and "| changed | none |" in kept
    assert "Not checked in this run" in _summary(None)
