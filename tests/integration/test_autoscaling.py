"""Auto Scaling: capacities, business-hours schedule, CPU scaling policies and their alarms."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def group(stack, clients):
    return clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[stack.outputs.asg_name])["AutoScalingGroups"][0]


def test_capacities_match_the_config(group, deployed_config):
    """Min, max and desired capacity are the configured ones, health checks come from the
    ALB, and the group spans the three private subnets."""
    cap = deployed_config.capacity
    assert (group["MinSize"], group["MaxSize"]) == (cap.min_size, cap.max_size)
    assert cap.min_size <= group["DesiredCapacity"] <= cap.max_size
    assert group["HealthCheckType"] == "ELB"
    assert len(group["VPCZoneIdentifier"].split(",")) == 3


def test_business_hours_schedule(stack, clients, deployed_config):
    """Two scheduled actions in the configured time zone: at business start (08:00
    weekdays) the minimum rises to at least 3, at business end it returns to min_size."""
    sched, cap = deployed_config.schedule, deployed_config.capacity
    actions = clients.autoscaling.describe_scheduled_actions(
        AutoScalingGroupName=stack.outputs.asg_name)["ScheduledUpdateGroupActions"]
    by_recurrence = {a["Recurrence"]: a for a in actions}
    assert set(by_recurrence) == {sched.business_start, sched.business_end}, actions
    start, end = by_recurrence[sched.business_start], by_recurrence[sched.business_end]
    assert sched.business_start.split()[:2] == ["0", "8"], "business hours start at 08:00"
    for action in (start, end):
        assert action["TimeZone"] == sched.time_zone
        assert stack.suffix in action["ScheduledActionName"]
    assert start["MinSize"] >= 3 and start["MinSize"] == cap.business_hours_min
    assert start["DesiredCapacity"] >= start["MinSize"]
    assert end["MinSize"] == cap.min_size


def test_scaling_policies_and_their_alarms(stack, clients, deployed_config):
    """A scale-up (+1) and a scale-down (-1) policy, each triggered by a CloudWatch CPU alarm
    on this group at the configured thresholds; scale-up also notifies the SNS topic."""
    cap = deployed_config.capacity
    policies = clients.autoscaling.describe_policies(
        AutoScalingGroupName=stack.outputs.asg_name)["ScalingPolicies"]
    by_adjustment = {p["ScalingAdjustment"]: p for p in policies}
    assert set(by_adjustment) == {1, -1}, policies
    alarms = clients.cloudwatch.describe_alarms(AlarmNamePrefix="alarm-")["MetricAlarms"]
    alarms = [a for a in alarms if stack.suffix in a["AlarmName"]
              and a.get("MetricName") == "CPUUtilization"]
    for adjustment, threshold, comparison in (
            (1, cap.scale_up_cpu_percent, "GreaterThanOrEqualToThreshold"),
            (-1, cap.scale_down_cpu_percent, "LessThanOrEqualToThreshold")):
        policy = by_adjustment[adjustment]
        triggering = [a for a in alarms if policy["PolicyARN"] in a["AlarmActions"]]
        assert len(triggering) == 1, f"no single alarm triggers {policy['PolicyName']}"
        alarm = triggering[0]
        assert alarm["Threshold"] == threshold and alarm["ComparisonOperator"] == comparison
        assert {"Name": "AutoScalingGroupName", "Value": stack.outputs.asg_name} in alarm["Dimensions"]
        if adjustment == 1:
            assert stack.outputs.sns_topic_arn in alarm["AlarmActions"]
