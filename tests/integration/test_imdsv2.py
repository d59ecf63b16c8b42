"""IMDSv2: instances can only reach the metadata service with a session token."""
from __future__ import annotations

import pytest

from tests.integration import live_checks

pytestmark = pytest.mark.integration


@pytest.mark.control("2.2.6")
def test_launch_template_requires_tokens(stack, clients):
    """The launch template's default (and latest) version sets HttpTokens=required, the
    endpoint enabled and a hop limit of 1 (containers on the instance cannot reach it)."""
    versions = clients.ec2.describe_launch_template_versions(
        LaunchTemplateId=stack.outputs.launch_template_id, Versions=["$Latest", "$Default"]
    )["LaunchTemplateVersions"]
    assert versions
    for v in versions:
        meta = v["LaunchTemplateData"]["MetadataOptions"]
        assert meta["HttpTokens"] == "required", v["VersionNumber"]
        assert meta["HttpEndpoint"] == "enabled"
        assert meta["HttpPutResponseHopLimit"] == 1


@pytest.mark.control("2.2.6")
def test_asg_launches_that_template_at_its_latest_version(stack, clients):
    """The Auto Scaling group launches the stack's template at its latest version, so a
    template change reaches new instances."""
    group = clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[stack.outputs.asg_name])["AutoScalingGroups"][0]
    spec = group["LaunchTemplate"]
    assert spec["LaunchTemplateId"] == stack.outputs.launch_template_id
    latest = clients.ec2.describe_launch_templates(
        LaunchTemplateIds=[stack.outputs.launch_template_id]
    )["LaunchTemplates"][0]["LatestVersionNumber"]
    assert spec["Version"] in (str(latest), "$Latest")


@pytest.mark.live(reason="moto does not copy the launch template's metadata options onto "
                         "ASG instances (they show HttpTokens=optional)")
@pytest.mark.control("2.2.6")
def test_every_in_service_instance_requires_tokens(stack, clients):
    """Each InService instance of the ASG reports MetadataOptions.HttpTokens=required."""
    live_checks.check_instances_require_tokens(clients.autoscaling, clients.ec2,
                                               stack.outputs.asg_name)


@pytest.mark.live(reason="moto cannot run commands on instances (no SSM Run Command "
                         "execution, no instance metadata service)")
@pytest.mark.control("2.2.6")
def test_imdsv1_request_on_the_instance_fails(stack, clients):
    """Through SSM Run Command, an IMDSv1 request (no token) on an instance gets 401, while
    an IMDSv2 request with a token succeeds: the instance really enforces tokens."""
    live_checks.check_imdsv1_refused_on_instance(clients.autoscaling, clients.ssm,
                                                 stack.outputs.asg_name, deadline_s=180,
                                                 poll_s=5)
