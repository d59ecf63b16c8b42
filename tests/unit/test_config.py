"""Bad input: every invalid setting is a clear error naming it, before anything is synthesized."""
import dataclasses
import json
import sys

import pytest

from stack.config import (Capacity, ConfigError, DatabaseSettings, NetworkPlan, SandboxSettings,
                          Schedule, StackConfig, TlsSettings, load_config)
from stack.synthesis.synth import PROJECT_ROOT, child_env
from tests import speedups

pytestmark = pytest.mark.unit

CERT = "arn:aws:acm:us-east-1:111122223333:certificate/12345678-1234-1234-1234-123456789012"
# "ok12": suffixes have at least 4 characters since the sweeper's rule is the config's.
GOOD = dict(environment_suffix="ok12", tls=TlsSettings(certificate_arn=CERT,
                                                       origin_domain_name="origin.example.com"))
SECTIONS = {"capacity": Capacity, "schedule": Schedule, "network": NetworkPlan,
            "tls": TlsSettings, "database": DatabaseSettings, "sandbox": SandboxSettings}

BAD = [
    # (overrides, words the error must contain)
    (dict(environment_suffix=""), ["environment_suffix", "empty"]),
    (dict(environment_suffix="Upper"), ["environment_suffix", "lowercase"]),
    (dict(environment_suffix="has_underscore"), ["environment_suffix"]),
    (dict(environment_suffix="-lead"), ["environment_suffix", "hyphen"]),
    (dict(environment_suffix="trail-"), ["environment_suffix", "hyphen"]),
    (dict(environment_suffix="dou--ble"), ["environment_suffix", "single hyphens"]),
    (dict(environment_suffix="a" * 25), ["load balancer name", "32", "at most 24"]),
    (dict(environment="Prod"), ["environment"]),
    (dict(environment="averylongenvname"), ["environment", "1-10"]),
    (dict(region="us-east-9"), ["region", "not an AWS region"]),
    (dict(region="eu-west-1"), ["region", "us-east-1"]),
    (dict(capacity=dict(min_size=4, desired=3, max_size=6)), ["min_size <= desired <= max_size"]),
    (dict(capacity=dict(min_size=2, desired=7, max_size=6)), ["min_size <= desired <= max_size"]),
    (dict(capacity=dict(min_size=0, desired=1, max_size=6)), ["min_size", "at least 1"]),
    (dict(capacity=dict(business_hours_min=2)), ["business_hours_min", "at least 3"]),
    (dict(capacity=dict(scale_up_cpu_percent=30, scale_down_cpu_percent=70)),
     ["scale_down_cpu_percent < scale_up_cpu_percent"]),
    (dict(schedule=dict(time_zone="America/Nowhere")), ["time_zone", "IANA"]),
    (dict(schedule=dict(business_start="8am")), ["business_start", "cron"]),
    (dict(network=dict(vpc_cidr="10.0.0.0/33")), ["vpc_cidr", "not a CIDR"]),
    (dict(network=dict(vpc_cidr="10.20.0.1/16")), ["vpc_cidr", "not a CIDR"]),
    (dict(network=dict(vpc_cidr="10.0.0.0/8")), ["vpc_cidr", "/16 to /24"]),
    (dict(network=dict(public_subnets=("10.20.0.0/24", "10.20.0.0/25", "10.20.2.0/24"))),
     ["overlaps"]),
    (dict(network=dict(private_subnets=("10.99.0.0/24", "10.20.11.0/24", "10.20.12.0/24"))),
     ["not inside vpc_cidr"]),
    (dict(network=dict(private_subnets=("10.20.10.0/24", "10.20.11.0/24"))), ["exactly 3"]),
    (dict(network=dict(public_subnets=("banana", "10.20.1.0/24", "10.20.2.0/24"))),
     ["public_subnets", "not a CIDR"]),
    (dict(alert_emails=("not-an-email",)), ["alert_emails", "not an e-mail"]),
    (dict(alert_emails=("a@b",)), ["alert_emails"]),
    (dict(waf_rate_limit=5), ["waf_rate_limit", "10..2000000000"]),
    (dict(waf_rate_limit=3_000_000_000), ["waf_rate_limit"]),
    (dict(log_retention_days=42), ["log_retention_days", "CloudWatch accepts only"]),
    (dict(log_retention_days=90), ["log_retention_days", "PCI DSS 10.5.1"]),
    (dict(rotation_days=120), ["rotation_days", "90"]),
    (dict(allowed_account_ids=("12345",)), ["allowed_account_ids", "12-digit"]),
    (dict(instance_type="large"), ["instance_type"]),
    (dict(tls=dict()), ["tls", "needs a certificate"]),
    (dict(tls=dict(domain_name="pay.example.com")), ["domain_name and hosted_zone_id"]),
    (dict(tls=dict(certificate_arn="arn:nope")), ["certificate_arn", "not an ACM"]),
    (dict(tls=dict(certificate_arn=CERT)), ["origin_domain_name"]),
    (dict(tls=dict(domain_name="Pay.Example.com", hosted_zone_id="Z123")), ["domain_name"]),
    (dict(tls=dict(domain_name="pay.example.com", hosted_zone_id="zone")), ["hosted_zone_id"]),
    (dict(database=dict(backup_retention_days=3)), ["backup_retention_days", "7..35"]),
    (dict(database=dict(engine_version="5.7.mysql_aurora.2.11.2")), ["engine_version"]),
    (dict(database=dict(instance_class="r6g.large")), ["instance_class"]),
    (dict(sandbox=dict(endpoint="http://10.0.0.5:5000")), ["sandbox.endpoint", "loopback"]),
    (dict(sandbox=dict(endpoint="http://example.com:5000")), ["sandbox.endpoint", "loopback"]),
    (dict(sandbox=dict(endpoint="ftp://127.0.0.1:5000")), ["sandbox.endpoint", "http"]),
    (dict(sandbox=dict(endpoint="http://127.0.0.1")), ["sandbox.endpoint", "port"]),
    # Added with the fault-injection work: the remaining edges of each rule.
    (dict(environment_suffix="UPPER-CASE"), ["environment_suffix", "lowercase"]),
    (dict(environment_suffix="with space"), ["environment_suffix"]),
    (dict(environment_suffix="a" * 64), ["environment_suffix", "at most 24"]),
    (dict(region="US-EAST-1"), ["region", "not an AWS region"]),
    (dict(region=""), ["region", "not an AWS region"]),
    (dict(capacity=dict(min_size=2, desired=3, max_size=2)), ["min_size <= desired <= max_size"]),
    (dict(capacity=dict(business_hours_min=7, max_size=6)), ["business_hours_min=7 exceeds"]),
    (dict(capacity=dict(max_size=101, desired=3)), ["max_size=101", "at most 100"]),
    (dict(capacity=dict(scale_up_cpu_percent=100)), ["scale_up_cpu_percent < 100"]),
    (dict(capacity=dict(min_size="2")), ["capacity", "integers"]),
    (dict(network=dict(vpc_cidr="banana")), ["vpc_cidr", "not a CIDR"]),
    # An IPv6 VPC block once crashed the validation (TypeError comparing subnets with it).
    (dict(network=dict(vpc_cidr="fd00::/56")), ["vpc_cidr", "IPv4"]),
    (dict(network=dict(public_subnets=("10.20.10.0/24", "10.20.1.0/24", "10.20.2.0/24"))),
     ["public_subnets 10.20.10.0/24 overlaps private_subnets 10.20.10.0/24"]),
    (dict(network=dict(private_subnets=("10.20.10.0/29", "10.20.11.0/24", "10.20.12.0/24"))),
     ["/16 to /28"]),
    (dict(network=dict(private_subnets=("10.20.10.0/33", "10.20.11.0/24", "10.20.12.0/24"))),
     ["private_subnets", "not a CIDR"]),
    (dict(alert_emails=("@example.com",)), ["alert_emails", "not an e-mail"]),
    (dict(alert_emails=("ops@example",)), ["alert_emails", "not an e-mail"]),
    (dict(alert_emails=("ops team@example.com",)), ["alert_emails", "not an e-mail"]),
    (dict(alert_emails="ops@example.com"), ["alert_emails must be a list"]),
    (dict(waf_rate_limit=9), ["waf_rate_limit=9", "10..2000000000"]),
    (dict(waf_rate_limit=2_000_000_001), ["waf_rate_limit=2000000001"]),
    (dict(waf_rate_limit=True), ["waf_rate_limit=True"]),
    (dict(waf_rate_limit="2000"), ["waf_rate_limit='2000'"]),
    (dict(log_retention_days=366), ["log_retention_days", "CloudWatch accepts only"]),
    (dict(rotation_days=0), ["rotation_days", "1..90"]),
    (dict(allowed_account_ids=("1234567890123",)), ["allowed_account_ids", "12-digit"]),
    (dict(schedule=dict(business_end="0 18 * *")), ["business_end", "cron"]),
    (dict(database=dict(backup_retention_days=36)), ["backup_retention_days", "7..35"]),
    (dict(database=dict(maintenance_window="sunday 5am")), ["maintenance_window"]),
    (dict(application=""), ["application"]),
    (dict(tls=dict(domain_name="pay.example.com", hosted_zone_id="Z123", certificate_arn=CERT)),
     ["not both"]),
    (dict(sandbox=dict(endpoint="http://192.168.1.10:5000")), ["sandbox.endpoint", "192.168.1.10"]),
    (dict(sandbox=dict(endpoint="http://[::2]:5000")), ["sandbox.endpoint", "::2"]),
    (dict(sandbox=dict(endpoint="http://0.0.0.0:5000")), ["sandbox.endpoint", "loopback"]),
    (dict(sandbox=dict(endpoint="http://localhost.evil.example:5000")),
     ["sandbox.endpoint", "loopback"]),
    (dict(sandbox=dict(endpoint="127.0.0.1:5000")), ["sandbox.endpoint"]),
    (dict(sandbox=dict(endpoint="")), ["sandbox.endpoint"]),
]


def test_the_good_config_is_accepted():
    cfg = StackConfig(**GOOD)
    assert cfg.names.alb == "alb-dev-ok12"


@pytest.mark.control("2.2.1")
@pytest.mark.parametrize("overrides,words", BAD, ids=[str(i) for i in range(len(BAD))])
def test_each_bad_setting_gives_a_clear_error(overrides, words):
    with pytest.raises(ConfigError) as err:
        StackConfig(**{**GOOD, **{key: SECTIONS[key](**value) if key in SECTIONS else value
                                  for key, value in overrides.items()}})
    message = str(err.value)
    for word in words:
        assert word in message, f"{word!r} missing from: {message}"


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as err:
        StackConfig(**{**GOOD, "environment_suffix": "BAD", "waf_rate_limit": 1,
                       "alert_emails": ("x",)})
    assert str(err.value).count("\n  - ") == 3


def test_longest_valid_suffix_fits_every_name_limit():
    cfg = StackConfig(**{**GOOD, "environment_suffix": "a" * 24})
    assert len(cfg.names.alb) == 32 and len(cfg.names.target_group) <= 32


def test_config_file_rejects_unknown_keys_and_bad_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"environment_suffix": "x1", "waf_limit": 5}))
    with pytest.raises(ConfigError, match="unknown setting.*waf_limit"):
        load_config(bad, environ={})
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(broken, environ={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.json", environ={})


def test_environment_overrides_the_file(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"environment_suffix": "fromfile", "tls": {"certificate_arn": CERT,
                             "origin_domain_name": "o.example.com"}}))
    cfg = load_config(f, environ={"STACK_ENVIRONMENT_SUFFIX": "fromenv", "STACK_ENVIRONMENT": "qa"})
    assert (cfg.environment_suffix, cfg.environment) == ("fromenv", "qa")


def _cli_with_an_invalid_config(work) -> speedups.Launch:
    f = work / "c.json"
    f.write_text(json.dumps({"environment_suffix": "UPPER"}))
    out = work / "out"
    return speedups.Launch(
        [sys.executable, "-m", "stack.cli", "--config", str(f), "--outdir", str(out)],
        cwd=PROJECT_ROOT, env=child_env(), context={"out": out})


@pytest.mark.control("2.2.1")
@speedups.head_start(_cli_with_an_invalid_config)
def test_invalid_config_synthesizes_nothing(child):
    """The CLI stops before any construct: exit 2, the error named, no output directory."""
    assert child.returncode == 2
    assert "environment_suffix='UPPER'" in child.stderr
    assert not child.context["out"].exists()


def test_the_committed_json_schema_is_current(capsys):
    """Editors validate config files against stack/config/stack-config.schema.json: it must
    be what --print-schema prints (regenerate: python -m stack.cli --print-schema > FILE)."""
    from stack import cli
    from stack.config.schema import SCHEMA_FILE

    assert cli.main(["--print-schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == SCHEMA_FILE.read_text(), "stale: regenerate with --print-schema"
    schema = json.loads(printed)
    assert schema["required"] == ["environment_suffix"] and not schema["additionalProperties"]
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(StackConfig)}


def test_replace_revalidates_and_the_config_is_frozen():
    cfg = StackConfig(**GOOD)
    assert dataclasses.replace(cfg, waf_rate_limit=5000).waf_rate_limit == 5000
    with pytest.raises(ConfigError, match=r"waf_rate_limit=True: must be an integer"):
        dataclasses.replace(cfg, waf_rate_limit=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.waf_rate_limit = 1  # type: ignore[misc]


def test_a_section_built_on_its_own_names_its_place_in_the_config():
    with pytest.raises(ConfigError, match=r"capacity\.min_size=0: at least 1"):
        Capacity(min_size=0, desired=1)
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) database\.engin_version: did you "
                                          r"mean engine_version\?"):
        DatabaseSettings(engin_version="x")  # type: ignore[call-arg]


def test_python_construction_is_strict_too():
    with pytest.raises(ConfigError, match=r"capacity must be a Capacity\(\.\.\.\), got \{"):
        StackConfig(**{**GOOD, "capacity": {"min_size": 2}})
    with pytest.raises(ConfigError, match=r"alert_emails must be a list in a config file \(a tuple "
                                          r"in Python\)"):
        StackConfig(**{**GOOD, "alert_emails": ["ops@example.com"]})


def test_the_json_shape_round_trips():
    from stack.config import config_from_mapping, config_to_mapping

    cfg = StackConfig(**{**GOOD, "alert_emails": ("ops@example.com",),
                         "database": DatabaseSettings(deletion_protection=True)})
    mapping = config_to_mapping(cfg)
    assert mapping["alert_emails"] == ["ops@example.com"] and mapping["sandbox"] is None
    assert config_from_mapping(mapping) == cfg
