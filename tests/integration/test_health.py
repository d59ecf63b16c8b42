"""Health: the path a customer's request takes, CloudFront -> ALB -> instances."""
from __future__ import annotations

import pytest

from tests.integration import live_checks

pytestmark = pytest.mark.integration

NO_DATA_PLANE = ("moto has no HTTP data plane: CloudFront and the ALB do not serve requests "
                 "and the instances run no application")


@pytest.mark.control("4.2.1")
@pytest.mark.live(reason=NO_DATA_PLANE)
def test_cloudfront_health_returns_200(stack):
    """GET https://<distribution>/health through CloudFront returns 200."""
    live_checks.get_health_200(f"https://{stack.outputs.cloudfront_domain_name}/health",
                               timeout=30)


@pytest.mark.control("1.4.2")
@pytest.mark.live(reason=NO_DATA_PLANE)
def test_alb_refuses_direct_requests(stack):
    """A request straight to the ALB (no CloudFront origin header, not from CloudFront's
    prefix list) is refused: the connection is dropped or answered 403."""
    live_checks.check_direct_request_refused(f"https://{stack.outputs.alb_dns_name}/health",
                                             timeout=10)


def test_target_group_checks_health_with_matcher_200(stack, clients):
    """The ALB's target group health-checks GET /health and accepts only 200."""
    tg = clients.elbv2.describe_target_groups(
        TargetGroupArns=[stack.outputs.target_group_arn])["TargetGroups"][0]
    assert tg["HealthCheckEnabled"] is True
    assert tg["HealthCheckPath"] == "/health"
    assert tg["Matcher"]["HttpCode"] == "200"
    assert tg["HealthCheckProtocol"] == "HTTP"
    assert stack.outputs.alb_arn in tg["LoadBalancerArns"]


def test_target_group_targets_are_the_asg_instances_and_healthy(stack, clients):
    """Every InService instance of the ASG is a registered target, and each target reports
    healthy. (In the sandbox moto reports registered targets healthy without probing.)"""
    group = clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[stack.outputs.asg_name])["AutoScalingGroups"][0]
    assert stack.outputs.target_group_arn in group["TargetGroupARNs"]
    in_service = {i["InstanceId"] for i in group["Instances"]
                  if i["LifecycleState"] == "InService"}
    assert len(in_service) >= group["MinSize"]
    health = clients.elbv2.describe_target_health(
        TargetGroupArn=stack.outputs.target_group_arn)["TargetHealthDescriptions"]
    targets = {h["Target"]["Id"]: h["TargetHealth"]["State"] for h in health}
    assert in_service <= set(targets), f"not registered: {in_service - set(targets)}"
    unhealthy = {i: s for i, s in targets.items() if i in in_service and s != "healthy"}
    assert not unhealthy, unhealthy
