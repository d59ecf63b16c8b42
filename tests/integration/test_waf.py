"""WAF: the web ACL in front of CloudFront, its rate rule and AWS's managed rule groups."""
from __future__ import annotations

import pytest

from tests.integration import live_checks

pytestmark = pytest.mark.integration

MANAGED_GROUPS = {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                  "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"}


def _acl(stack, clients):
    arn = stack.outputs.web_acl_arn
    name, acl_id = arn.split("/")[-2], arn.split("/")[-1]
    return clients.wafv2.get_web_acl(Name=name, Scope="CLOUDFRONT", Id=acl_id)["WebACL"]


@pytest.mark.control("6.4.2")
def test_web_acl_is_attached_to_the_distribution(stack, clients):
    """The CloudFront distribution's WebACLId is the stack's web ACL (scope CLOUDFRONT)."""
    dist = clients.cloudfront.get_distribution(Id=stack.outputs.cloudfront_distribution_id)
    assert dist["Distribution"]["DistributionConfig"]["WebACLId"] == stack.outputs.web_acl_arn
    assert ":global/webacl/" in stack.outputs.web_acl_arn  # CLOUDFRONT scope lives in "global"


@pytest.mark.control("6.4.2", "11.5.1")
def test_web_acl_has_the_rate_rule_and_the_managed_groups(stack, clients, deployed_config):
    """The ACL blocks per-IP bursts above the configured limit (first rule), then runs the
    four AWS managed rule groups without overriding their actions; default is allow."""
    acl = _acl(stack, clients)
    rules = sorted(acl["Rules"], key=lambda r: r["Priority"])
    rate = rules[0]
    statement = rate["Statement"]["RateBasedStatement"]
    assert statement["Limit"] == deployed_config.waf_rate_limit
    assert statement["AggregateKeyType"] == "IP"
    assert "Block" in rate["Action"]
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r for r in rules[1:]
              if "ManagedRuleGroupStatement" in r["Statement"]}
    assert set(groups) == MANAGED_GROUPS
    for rule in groups.values():
        assert rule["Statement"]["ManagedRuleGroupStatement"]["VendorName"] == "AWS"
        assert "None" in rule["OverrideAction"], f"{rule['Name']} overrides the group's actions"
    assert "Allow" in acl["DefaultAction"]
    assert acl["VisibilityConfig"]["CloudWatchMetricsEnabled"] is True


@pytest.mark.control("10.2.1")
def test_web_acl_logs_to_its_log_group(stack, clients):
    """WAF logging goes to the stack's aws-waf-logs- log group."""
    config = clients.wafv2.get_logging_configuration(ResourceArn=stack.outputs.web_acl_arn)
    destinations = config["LoggingConfiguration"]["LogDestinationConfigs"]
    assert any(d.endswith(f":log-group:{stack.outputs.waf_log_group_name}") or
               stack.outputs.waf_log_group_name in d for d in destinations), destinations


@pytest.mark.control("6.4.2", "11.5.1")
@pytest.mark.live(reason="moto has no HTTP data plane: WAF never sees a request")
def test_burst_above_the_limit_is_blocked_with_403(stack, deployed_config):
    """One client sending more than the rate limit within WAF's evaluation window gets 403,
    within a bounded number of requests (3x the limit) and time (6 minutes)."""
    live_checks.check_burst_blocked(f"https://{stack.outputs.cloudfront_domain_name}/health",
                                    limit=deployed_config.waf_rate_limit, deadline_s=360,
                                    request_timeout=10)
