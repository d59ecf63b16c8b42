"""Tags: every deployed resource carries Environment, Application and CostCenter, and the
suffix in its name, so cost reports and leftover hunts find all of it."""
from __future__ import annotations

import pytest

from tests.integration.conftest import state_resources

pytestmark = pytest.mark.integration

# Attributes that name a resource (first one present wins); the suffix must be in it.
NAME_ATTRIBUTES = ("name", "bucket", "identifier", "cluster_identifier", "function_name",
                   "alarm_name", "scheduled_action_name", "autoscaling_group_name",
                   "name_prefix")
# Names that only exist inside a parent resource (an inline policy inside its role): the
# parent, named by this attribute, must carry the suffix.
PARENT_SCOPED = {"aws_iam_role_policy": "role"}
# Named by the configured domain, not by the run (domain mode only), as in the unit twin.
DOMAIN_NAMED = {"aws_route53_record"}


def _taggable(stack):
    return [r for r in state_resources(stack) if "tags_all" in r["attributes"]]


@pytest.mark.control("12.5.1")
def test_every_taggable_resource_has_the_three_tags(stack, deployed_config):
    """Each resource that supports tags carries Environment, Application and CostCenter with
    the configured values, as read back from the target after the apply."""
    expected = {"Environment": deployed_config.environment,
                "Application": deployed_config.application,
                "CostCenter": deployed_config.cost_center}
    resources = _taggable(stack)
    assert len(resources) >= 30, f"only {len(resources)} taggable resources in the state"
    wrong = {r["address"]: {k: (r["attributes"]["tags_all"] or {}).get(k) for k in expected}
             for r in resources
             if any((r["attributes"]["tags_all"] or {}).get(k) != v for k, v in expected.items())}
    assert not wrong, wrong


@pytest.mark.control("12.5.1")
def test_tags_are_on_the_resources_themselves(stack, clients, deployed_config):
    """The target's tagging API returns the three tags for the stack's tagged resources
    (not only Terraform's view of them): at least the buckets, keys, ALB, topic and
    secret, found by their ARNs."""
    out = stack.outputs
    wanted = {out.alb_arn, out.sns_topic_arn, out.db_secret_arn,
              f"arn:aws:s3:::{out.static_bucket_name}", f"arn:aws:s3:::{out.logs_bucket_name}"}
    found = {}
    paginator = clients.resourcegroupstaggingapi.get_paginator("get_resources")
    for page in paginator.paginate(TagFilters=[{"Key": "Environment",
                                                 "Values": [deployed_config.environment]}]):
        for mapping in page["ResourceTagMappingList"]:
            found[mapping["ResourceARN"]] = {t["Key"]: t["Value"] for t in mapping["Tags"]}
    missing = wanted - set(found)
    assert not missing, f"not returned by the tagging API: {missing}"
    for arn in wanted:
        assert found[arn].get("Application") == deployed_config.application, arn
        assert found[arn].get("CostCenter") == deployed_config.cost_center, arn


@pytest.mark.control("12.5.1")
def test_every_named_resource_carries_the_suffix(stack):
    """Every resource that has a name (or, failing that, a Name tag) includes the suffix."""
    missing = []
    checked = 0
    for r in state_resources(stack):
        if r["type"] in DOMAIN_NAMED:
            continue
        attrs = r["attributes"]
        if r["type"] in PARENT_SCOPED:
            attrs = {"name": attrs[PARENT_SCOPED[r["type"]]]}
        name = next((attrs[a] for a in NAME_ATTRIBUTES
                     if isinstance(attrs.get(a), str) and attrs.get(a)), None)
        tag_name = (attrs.get("tags_all") or {}).get("Name")
        if name is None and tag_name is None:
            continue  # associations, rules, attachments: nothing to name
        checked += 1
        if not any(label and stack.suffix in label for label in (name, tag_name)):
            missing.append(f"{r['address']}: {name or tag_name!r}")
    assert checked >= 40, f"only {checked} named resources found"
    assert not missing, missing
