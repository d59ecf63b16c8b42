"""The idempotency judgement (harness.drift, harness.drift_allowlist) on a recorded plan.

tests/unit/data/moto_idempotency_plan.json is ``terraform show -json`` of the plan right
after a full sandbox apply and integration run (moto 5.2.1, provider 5.100.0), trimmed to
the changed attributes, sensitive values replaced by tokens (equal values, equal tokens).
moto_idempotency_plan_domain.json is the same of the aws rehearsal's plan (domain mode,
tests/component/test_aws_rehearsal.py), trimmed the same way.
"""
from __future__ import annotations

import copy
import datetime
import json
from pathlib import Path

import pytest

from harness.drift import SENSITIVE, UNKNOWN, WHOLE, Change, plan_changes, schema_path
from harness.drift_allowlist import (ALLOWLIST_FILE, DriftAllowance, DriftAllowList,
                                     DriftAllowListError, judge, load_allowlist)

pytestmark = pytest.mark.unit

RECORDED = Path(__file__).parent / "data" / "moto_idempotency_plan.json"
RECORDED_DOMAIN = Path(__file__).parent / "data" / "moto_idempotency_plan_domain.json"


@pytest.fixture(scope="module")
def plan() -> dict:
    return json.loads(RECORDED.read_text())


@pytest.mark.parametrize("recording", [RECORDED, RECORDED_DOMAIN], ids=["sandbox", "domain"])
def test_every_recorded_moto_drift_is_in_the_reviewed_allow_list(recording):
    changes = plan_changes(json.loads(recording.read_text()))
    assert len(changes) == 34 and len({c.address for c in changes}) == 16
    verdict = judge(changes, load_allowlist())
    assert not verdict.unexpected, [c.line() for c in verdict.unexpected]
    assert len(verdict.allowed) == 34


def test_every_allowance_matches_a_drift_moto_really_shows():
    unused = set(load_allowlist().allowances)
    for recording in (RECORDED, RECORDED_DOMAIN):
        unused &= set(judge(plan_changes(json.loads(recording.read_text())),
                            load_allowlist()).unused)
    assert not unused, [(a.resource_type, a.attribute) for a in unused]


@pytest.mark.parametrize("recording", [RECORDED, RECORDED_DOMAIN], ids=["sandbox", "domain"])
def test_a_listed_change_reads_back_as_itself(recording):
    """What a run prints (the rehearsal reads its output) parses back to the same changes."""
    changes = plan_changes(json.loads(recording.read_text()))
    assert [Change.parse(c.line()) for c in changes] == changes
    assert [Change.parse(f"E     {c.line()}".removeprefix("E")) for c in changes] == changes


def test_only_change_lines_parse():
    nested = Change.parse('module.m.aws_s3_bucket.b["k"] (update): tags.x: "a" -> "b"')
    assert nested is not None and nested.resource_type == "aws_s3_bucket"
    for text in ("[stack 01:54:15] apply: done in 120.2s", "idempotency: 34 moto drift(s) waived",
                 "LEFTOVER s3 bucket faults-dev-x  -> python -m harness.sweep --suffix x", ""):
        assert Change.parse(text) is None, text


def test_on_aws_every_change_fails(plan):
    verdict = judge(plan_changes(plan), None)
    assert len(verdict.unexpected) == 34 and not verdict.allowed


def test_a_change_outside_the_allow_list_fails_with_address_attribute_and_values(plan):
    drifted = copy.deepcopy(plan)
    drifted["resource_changes"].append({
        "address": "aws_s3_bucket.storage_logs_1A2B", "type": "aws_s3_bucket", "name": "x",
        "change": {"actions": ["update"],
                   "before": {"tags": {"Environment": "dev", "Owner": "ops"}},
                   "after": {"tags": {"Environment": "dev"}},
                   "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}})
    verdict = judge(plan_changes(drifted), load_allowlist())
    assert [c.line() for c in verdict.unexpected] == [
        'aws_s3_bucket.storage_logs_1A2B (update): tags.Owner: "ops" -> null']


def test_sensitive_values_are_never_rendered(plan):
    lines = [c.line() for c in plan_changes(plan)]
    origin = [x for x in lines if ".origin_access_control_id" in x]
    assert origin and all(x.endswith(f"{SENSITIVE} -> {SENSITIVE}") for x in origin)
    assert not any("(redacted" in x for x in lines), "a sensitive value reached a line"


def test_unknown_after_apply_is_a_change(plan):
    versions = [c for c in plan_changes(plan) if c.attribute == "launch_template.0.version"]
    assert versions and versions[0].after == UNKNOWN


def test_create_and_delete_are_whole_resource_changes():
    doc = {"resource_changes": [
        {"address": "aws_sns_topic.t", "type": "aws_sns_topic",
         "change": {"actions": ["create"], "before": None, "after": {"name": "t"}}},
        {"address": "aws_sns_topic.u", "type": "aws_sns_topic",
         "change": {"actions": ["no-op"], "before": {"name": "u"}, "after": {"name": "u"}}}],
        "output_changes": {"token": {"actions": ["update"], "before": "a", "after": "b",
                                     "before_sensitive": True, "after_sensitive": True}}}
    changes = plan_changes(doc)
    assert [(c.address, c.attribute, c.after) for c in changes] == [
        ("aws_sns_topic.t", WHOLE, "(present)"), ("output.token", "value", SENSITIVE)]


def test_allowances_match_attribute_paths_not_name_prefixes():
    allow = DriftAllowance(resource_type="aws_vpc_security_group_ingress_rule",
                           attribute="description", why="moto returns no Description",
                           reviewer="r", expires=datetime.date(2099, 1, 1))
    from harness.drift import Change
    rule = "aws_vpc_security_group_ingress_rule"
    assert allow.matches(Change("a", rule, ("update",), "description", "null", '"x"'))
    assert not allow.matches(Change("a", rule, ("update",), "description_extra", "1", "2"))
    assert not allow.matches(Change("a", "aws_security_group", ("update",), "description", "1", "2"))
    assert schema_path("default_cache_behavior.0.forwarded_values.1.x") == \
        "default_cache_behavior.forwarded_values.x"


def test_an_expired_allowance_fails_naming_it(tmp_path):
    shipped = load_allowlist()
    last = max(a.expires for a in shipped.allowances)
    with pytest.raises(DriftAllowListError, match=r"expired.*renew the entry"):
        load_allowlist(ALLOWLIST_FILE, today=last + datetime.timedelta(days=1))


@pytest.mark.parametrize("entry, problem", [
    ({"resource_type": "aws_x", "attribute": "a", "reviewer": "r", "expires": "2099-01-01"}, "why"),
    ({"resource_type": "aws_x", "attribute": "a", "why": "a real reason", "reviewer": "r",
      "expires": "soon"}, "expires"),
    ({"resource_type": "aws_x", "attribute": "a", "why": "a real reason", "reviewer": "r",
      "expires": "2099-01-01", "waive_all": True}, "waive_all"),
])
def test_a_malformed_allowance_is_refused(tmp_path, entry, problem):
    path = tmp_path / "allow.yaml"
    path.write_text(json.dumps({"allowances": [entry]}))
    with pytest.raises(DriftAllowListError, match=problem):
        load_allowlist(path)


def test_an_empty_allow_list_waives_nothing(plan):
    assert len(judge(plan_changes(plan), DriftAllowList()).unexpected) == 34
