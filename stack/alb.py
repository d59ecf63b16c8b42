"""The internet-facing ALB: HTTPS (TLS 1.2+) only, and only for requests from CloudFront.

CloudFront's origin-facing prefix list is the only source the security group admits, and
the listener forwards only requests carrying the secret origin header; everything else
gets a fixed 403. Port 80 only redirects to HTTPS.
"""
from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener, LbListenerDefaultAction, LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule, LbListenerRuleAction, LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck

from stack.context import APP_PORT, ORIGIN_HEADER, StackContext
from stack.storage import ALB_LOG_PREFIX

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
HEALTH_CHECK_PATH = "/health"
HEALTH_CHECK_TIMEOUT_SECONDS = 5
HEALTH_CHECK_INTERVAL_SECONDS = 15


@dataclass(frozen=True)
class LoadBalancerProps:
    ctx: StackContext
    vpc_id: str
    public_subnet_ids: list[str]
    security_group_id: str
    certificate_arn: str
    logs_bucket: str
    logs_bucket_policy: ITerraformDependable
    origin_header_value: str


class LoadBalancer(Construct):
    def __init__(self, scope: Construct, id: str, *, props: LoadBalancerProps):
        super().__init__(scope, id)
        ctx = props.ctx
        self.alb = Lb(self, "alb", name=ctx.names.alb, load_balancer_type="application",
                      internal=False, subnets=props.public_subnet_ids,
                      security_groups=[props.security_group_id],
                      drop_invalid_header_fields=True, enable_deletion_protection=False,
                      desync_mitigation_mode="strictest",
                      access_logs=LbAccessLogs(bucket=props.logs_bucket, prefix=ALB_LOG_PREFIX,
                                               enabled=True),
                      depends_on=[props.logs_bucket_policy])
        self.target_group = LbTargetGroup(
            self, "targets", name=ctx.names.target_group, port=APP_PORT, protocol="HTTP",
            vpc_id=props.vpc_id, target_type="instance", deregistration_delay="30",
            health_check=LbTargetGroupHealthCheck(
                enabled=True, path=HEALTH_CHECK_PATH, protocol="HTTP", port="traffic-port",
                matcher="200", interval=HEALTH_CHECK_INTERVAL_SECONDS,
                timeout=HEALTH_CHECK_TIMEOUT_SECONDS, healthy_threshold=2,
                unhealthy_threshold=2))
        self.https = LbListener(
            self, "https", load_balancer_arn=self.alb.arn, port=443, protocol="HTTPS",
            ssl_policy=TLS_POLICY, certificate_arn=props.certificate_arn,
            default_action=[LbListenerDefaultAction(
                type="fixed-response", fixed_response=LbListenerDefaultActionFixedResponse(
                    content_type="text/plain", message_body="Forbidden", status_code="403"))])
        LbListenerRule(
            self, "from-cloudfront", listener_arn=self.https.arn, priority=1,
            condition=[LbListenerRuleCondition(http_header=LbListenerRuleConditionHttpHeader(
                http_header_name=ORIGIN_HEADER, values=[props.origin_header_value]))],
            action=[LbListenerRuleAction(type="forward",
                                         target_group_arn=self.target_group.arn)])
        LbListener(
            self, "http-redirect", load_balancer_arn=self.alb.arn, port=80, protocol="HTTP",
            default_action=[LbListenerDefaultAction(
                type="redirect", redirect=LbListenerDefaultActionRedirect(
                    protocol="HTTPS", port="443", status_code="HTTP_301"))])
