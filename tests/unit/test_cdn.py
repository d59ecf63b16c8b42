import pytest

# Stated here, not imported: importing stack.cdn would load the provider bindings (10-20 s).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"    # AWS managed CachingDisabled
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"   # AWS managed CachingOptimized
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList")

pytestmark = pytest.mark.unit


@pytest.mark.control("6.4.2", "11.5.1")
def test_waf_blocks_above_the_configured_rate_and_runs_managed_groups(prod):
    acl = prod.one("aws_wafv2_web_acl")
    assert acl["scope"] == "CLOUDFRONT"
    rules = {r["name"]: r for r in acl["rule"]}
    rate = rules["rate-limit-per-ip"]
    assert "block" in rate["action"]
    assert rate["statement"]["rate_based_statement"]["limit"] == 1500
    groups = {r["statement"]["managed_rule_group_statement"]["name"] for r in acl["rule"]
              if "managed_rule_group_statement" in r["statement"]}
    assert groups == set(MANAGED_RULE_GROUPS)


@pytest.mark.control("8.3.2", "10.2.1", "10.3.3")
def test_waf_logs_redact_the_origin_secret_and_authorization(prod):
    logging = prod.one("aws_wafv2_web_acl_logging_configuration")
    redacted = {f["single_header"]["name"] for f in logging["redacted_fields"]}
    assert redacted == {"x-origin-verify", "authorization"}


@pytest.mark.control("4.2.1", "6.4.2")
def test_distribution_is_behind_waf_and_forces_https(prod):
    d = prod.one("aws_cloudfront_distribution")
    assert "aws_wafv2_web_acl" in d["web_acl_id"]
    assert d["default_cache_behavior"]["viewer_protocol_policy"] == "redirect-to-https"
    assert d["default_cache_behavior"]["cache_policy_id"] == CACHING_DISABLED
    static = d["ordered_cache_behavior"][0]
    assert static["path_pattern"] == "/static/*" and static["cache_policy_id"] == CACHING_OPTIMIZED
    assert static["viewer_protocol_policy"] == "redirect-to-https"
    assert "aws_s3_bucket" in d["logging_config"]["bucket"]


@pytest.mark.control("1.4.2", "4.2.1")
def test_origin_hop_is_https_only_tls12_with_the_secret_header(prod):
    alb = next(o for o in prod.one("aws_cloudfront_distribution")["origin"] if o["origin_id"] == "alb")
    assert alb["domain_name"] == "origin.pay.example.com"
    cfg = alb["custom_origin_config"]
    assert cfg["origin_protocol_policy"] == "https-only" and cfg["origin_ssl_protocols"] == ["TLSv1.2"]
    (header,) = alb["custom_header"]
    assert header["name"] == "X-Origin-Verify"
    assert header["value"].startswith("${data.aws_secretsmanager_secret_version.")


@pytest.mark.control("4.2.1")
def test_viewer_tls_modes(prod, imported):
    p = prod.one("aws_cloudfront_distribution")
    assert p["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
    assert p["aliases"] == ["pay.example.com"]
    i = imported.one("aws_cloudfront_distribution")
    assert i["viewer_certificate"] == {"cloudfront_default_certificate": True}
    alb = next(o for o in i["origin"] if o["origin_id"] == "alb")
    assert alb["domain_name"] == "origin.dev.example.com"


@pytest.mark.control("7.2.5")
def test_static_bucket_is_read_only_by_this_distribution_through_oac(prod):
    import json
    oac = prod.one("aws_cloudfront_origin_access_control")
    assert oac["signing_behavior"] == "always" and oac["origin_access_control_origin_type"] == "s3"
    policy = json.loads(prod.find("aws_s3_bucket_policy", "static-policy")["policy"])
    read = next(st for st in policy["Statement"] if st["Sid"] == "CloudFrontOacRead")
    assert read["Action"] == ["s3:GetObject"]
    assert read["Condition"]["StringEquals"]["AWS:SourceArn"].startswith("${aws_cloudfront_distribution.")


@pytest.mark.control("4.2.1")
def test_domain_mode_validates_certificates_and_points_dns(prod, imported):
    cert = prod.one("aws_acm_certificate")
    assert cert["validation_method"] == "DNS"
    assert cert["subject_alternative_names"] == ["origin.pay.example.com"]
    names = {r.get("name") for r in prod.list("aws_route53_record")}
    assert {"pay.example.com", "origin.pay.example.com"} <= names
    assert "aws_acm_certificate" not in imported.resource


@pytest.mark.control("6.4.2", "4.2.1")
def test_both_behaviours_send_the_managed_security_headers(prod):
    """HSTS and friends on every response, from AWS's managed SecurityHeadersPolicy."""
    d = prod.one("aws_cloudfront_distribution")
    behaviours = [d["default_cache_behavior"], *d["ordered_cache_behavior"]]
    assert {b["response_headers_policy_id"] for b in behaviours} == {
        "67f7725c-6f97-4210-82d7-5512b31e9d03"}
