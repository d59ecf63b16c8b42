"""CloudFront with WAF in front: the platform's only way in.

Default behaviour -> the ALB over HTTPS with the secret origin header, nothing cached.
``/static/*`` -> the static bucket through Origin Access Control, cached.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf import ITerraformDependable
from constructs import Construct
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution, CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionLoggingConfig, CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin, CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginCustomOriginConfig, CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction, CloudfrontDistributionViewerCertificate)
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl, Wafv2WebAclDefaultAction, Wafv2WebAclRule, Wafv2WebAclRuleAction,
    Wafv2WebAclRuleOverrideAction, Wafv2WebAclRuleVisibilityConfig, Wafv2WebAclVisibilityConfig)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration, Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader)

from stack.context import ORIGIN_HEADER, STATIC_PATH, StackContext, allow, policy
from stack.storage import CLOUDFRONT_LOG_PREFIX, deny_old_tls_statement, tls_only_statement

# AWS-managed policies by id: moto rejects custom cache policies, and these are what a
# custom one would say anyway.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"   # HSTS, nosniff, frame deny
VIEWER_TLS_POLICY = "TLSv1.2_2021"
MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                       "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList")
ALB_ORIGIN = "alb"
STATIC_ORIGIN = "static"


def _visibility(metric: str) -> dict[str, Any]:
    return dict(cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True)


@dataclass(frozen=True)
class WebFirewallProps:
    ctx: StackContext
    log_group_arn: str


class WebFirewall(Construct):
    """WAFv2 (scope CLOUDFRONT): a per-IP rate limit that blocks, and AWS's managed rules."""

    def __init__(self, scope: Construct, id: str, *, props: WebFirewallProps):
        super().__init__(scope, id)
        ctx = props.ctx
        rules = [Wafv2WebAclRule(
            name="rate-limit-per-ip", priority=0, action=Wafv2WebAclRuleAction(block={}),
            statement={"rate_based_statement": {"limit": ctx.cfg.waf_rate_limit,
                                                "aggregate_key_type": "IP",
                                                "evaluation_window_sec": 300}},
            visibility_config=Wafv2WebAclRuleVisibilityConfig(**_visibility("rate-limit-per-ip")))]
        for priority, group in enumerate(MANAGED_RULE_GROUPS, start=1):
            rules.append(Wafv2WebAclRule(
                name=group, priority=priority,
                override_action=Wafv2WebAclRuleOverrideAction(none={}),
                statement={"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}},
                visibility_config=Wafv2WebAclRuleVisibilityConfig(**_visibility(group))))
        self.acl = Wafv2WebAcl(
            self, "acl", name=ctx.names.web_acl, scope="CLOUDFRONT",
            description="Rate limit and AWS managed rules in front of the platform",
            default_action=Wafv2WebAclDefaultAction(allow={}), rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(**_visibility(ctx.names.web_acl)))
        Wafv2WebAclLoggingConfiguration(
            self, "logging", resource_arn=self.acl.arn,
            log_destination_configs=[props.log_group_arn],
            # The origin secret and credentials must not land in the WAF logs.
            redacted_fields=[Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=h))
                for h in (ORIGIN_HEADER.lower(), "authorization")])


@dataclass(frozen=True)
class CdnProps:
    ctx: StackContext
    web_acl_arn: str
    origin_domain_name: str
    origin_header_value: str
    static_bucket: S3Bucket
    static_bucket_guard: ITerraformDependable  # the public access block, applied first
    logs_bucket_domain_name: str
    aliases: list[str]
    viewer_certificate_arn: str | None


class Cdn(Construct):
    def __init__(self, scope: Construct, id: str, *, props: CdnProps):
        super().__init__(scope, id)
        ctx = props.ctx
        oac = CloudfrontOriginAccessControl(
            self, "oac", name=ctx.names.oac, origin_access_control_origin_type="s3",
            signing_behavior="always", signing_protocol="sigv4",
            description="CloudFront reads the static bucket, nothing else does")
        if props.viewer_certificate_arn:
            viewer = CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=props.viewer_certificate_arn, ssl_support_method="sni-only",
                minimum_protocol_version=VIEWER_TLS_POLICY)
        else:
            # Without a domain, *.cloudfront.net's certificate serves viewers; AWS fixes its
            # minimum protocol, so the README states it as a trade-off of that mode.
            viewer = CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
        self.distribution = CloudfrontDistribution(
            self, "distribution", enabled=True, is_ipv6_enabled=True,
            comment=ctx.names.distribution, price_class="PriceClass_100",
            http_version="http2and3", web_acl_id=props.web_acl_arn,
            aliases=props.aliases or None,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ALB_ORIGIN, domain_name=props.origin_domain_name,
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        http_port=80, https_port=443, origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"]),
                    custom_header=[CloudfrontDistributionOriginCustomHeader(
                        name=ORIGIN_HEADER, value=props.origin_header_value)]),
                CloudfrontDistributionOrigin(
                    origin_id=STATIC_ORIGIN,
                    domain_name=props.static_bucket.bucket_regional_domain_name,
                    origin_access_control_id=oac.id),
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=ALB_ORIGIN, viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                cached_methods=["GET", "HEAD"], cache_policy_id=CACHING_DISABLED,
                origin_request_policy_id=ALL_VIEWER_EXCEPT_HOST,
                response_headers_policy_id=SECURITY_HEADERS, compress=True),
            ordered_cache_behavior=[CloudfrontDistributionOrderedCacheBehavior(
                path_pattern=f"{STATIC_PATH}*", target_origin_id=STATIC_ORIGIN,
                viewer_protocol_policy="redirect-to-https", allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"], cache_policy_id=CACHING_OPTIMIZED,
                response_headers_policy_id=SECURITY_HEADERS, compress=True)],
            logging_config=CloudfrontDistributionLoggingConfig(
                bucket=props.logs_bucket_domain_name, prefix=CLOUDFRONT_LOG_PREFIX,
                include_cookies=False),
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(
                    restriction_type="none")),
            viewer_certificate=viewer)

        bucket_arn = props.static_bucket.arn
        S3BucketPolicy(self, "static-policy", bucket=props.static_bucket.id, policy=policy(
            tls_only_statement(bucket_arn),
            deny_old_tls_statement(bucket_arn),
            allow("CloudFrontOacRead", ["s3:GetObject"], [f"{bucket_arn}/*"],
                  Principal={"Service": "cloudfront.amazonaws.com"},
                  Condition={"StringEquals": {"AWS:SourceArn": self.distribution.arn}}),
        ), depends_on=[props.static_bucket_guard])
