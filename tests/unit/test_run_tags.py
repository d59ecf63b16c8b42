"""Run tags: StackSuffix, StackRun and ExpiresAt on every taggable resource and on what the
ASG launches, only when a run sets them; --stack-ttl's bounds and ExpiresAt's format."""
import datetime

import pytest

from harness.run_tags import TtlError, expires_at, is_expired, parse_ttl
from stack.config import ConfigError, config_from_mapping

pytestmark = pytest.mark.unit

SEED = {"Environment": "prod", "Application": "fintxn", "CostCenter": "CC-1001"}
RUN = {"StackSuffix": "unit04", "StackRun": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
       "ExpiresAt": "2026-11-30T01:00:00Z"}


def test_provider_default_tags_carry_the_run_tags(tagged):
    (provider,) = tagged.doc["provider"]["aws"]
    assert provider["default_tags"][0]["tags"] == {**SEED, **RUN}


def test_what_the_asg_launches_carries_the_run_tags(tagged):
    """Instances, volumes and ENIs ignore default_tags: the template and the ASG carry them."""
    template = tagged.one("aws_launch_template")
    kinds = {spec["resource_type"]: spec["tags"] for spec in template["tag_specifications"]}
    assert set(kinds) == {"instance", "volume", "network-interface"}
    for kind, tags in kinds.items():
        assert {k: tags.get(k) for k in RUN} == RUN, kind
    asg_tags = {t["key"]: t for t in tagged.one("aws_autoscaling_group")["tag"]}
    for key, value in RUN.items():
        assert asg_tags[key]["value"] == value and asg_tags[key]["propagate_at_launch"] is True


def test_no_resource_overrides_a_run_tag(tagged):
    for rtype, name, body in tagged.resources():
        for key, value in (body.get("tags") or {}).items():
            if key in RUN:
                assert value == RUN[key], f"{rtype}.{name} sets {key}={value}"


def test_without_run_settings_no_run_tags_are_synthesized(prod, imported, sandbox):
    for doc in (prod, imported, sandbox):
        for key in RUN:
            assert key not in doc.text, f"{doc.path}: {key} without run settings"


@pytest.mark.parametrize("field, value, rule", [
    ("expires_at", "2026-11-30 01:00:00", "2026-11-30T01:00:00Z"),
    ("expires_at", "2026-11-30T01:00:00+01:00", "2026-11-30T01:00:00Z"),
    ("expires_at", "2026-02-30T01:00:00Z", "2026-11-30T01:00:00Z"),
    ("run_id", "run#1", "StackRun"),
    ("run_id", "x" * 257, "StackRun"),
])
def test_bad_run_settings_are_refused_naming_the_setting(field, value, rule):
    run = {"run_id": "abc", "expires_at": "2026-11-30T01:00:00Z", field: value}
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"environment_suffix": "unit05", "run": run,
                             "tls": {"domain_name": "pay.example.com",
                                     "hosted_zone_id": "Z0123456789ABCDEFGHIJ"}})
    assert f"run.{field}" in str(caught.value) and rule in str(caught.value)


@pytest.mark.parametrize("text, hours", [("1h", 1), ("90m", 1.5), ("6h", 6), ("3d", 72),
                                         (" 72h ", 72)])
def test_ttl_accepted(text, hours):
    assert parse_ttl(text) == datetime.timedelta(hours=hours)


@pytest.mark.parametrize("text, rule", [("59m", "between 1h and 72h"), ("73h", "between 1h and 72h"),
                                        ("4d", "between 1h and 72h"), ("6", "unit m, h or d"),
                                        ("6 h", "unit m, h or d"), ("-1h", "unit m, h or d"),
                                        ("1.5h", "unit m, h or d"), ("0h", "unit m, h or d")])
def test_ttl_refused_with_the_rule(text, rule):
    with pytest.raises(TtlError, match="--stack-ttl") as caught:
        parse_ttl(text)
    assert rule in str(caught.value)


def test_expires_at_is_utc_to_the_second():
    start = datetime.datetime(2026, 11, 29, 20, 0, 30, 999, tzinfo=datetime.timezone(
        datetime.timedelta(hours=-5)))
    assert expires_at(datetime.timedelta(hours=6), start) == "2026-11-30T07:00:30Z"


def test_expired_compares_in_utc():
    now = datetime.datetime(2026, 11, 30, 1, 0, 0, tzinfo=datetime.UTC)
    assert is_expired("2026-11-30T01:00:00Z", now)
    assert not is_expired("2026-11-30T01:00:01Z", now)
    assert not is_expired("not a time", now)
