"""IMDSv2: instances can only reach the metadata service with a session token."""
from __future__ import annotations

import time

import pytest

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
    group = clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[stack.outputs.asg_name])["AutoScalingGroups"][0]
    ids = [i["InstanceId"] for i in group["Instances"] if i["LifecycleState"] == "InService"]
    assert ids
    for reservation in clients.ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            assert instance["MetadataOptions"]["HttpTokens"] == "required", instance["InstanceId"]


@pytest.mark.live(reason="moto cannot run commands on instances (no SSM Run Command "
                         "execution, no instance metadata service)")
@pytest.mark.control("2.2.6")
def test_imdsv1_request_on_the_instance_fails(stack, clients):
    """Through SSM Run Command, an IMDSv1 request (no token) on an instance gets 401, while
    an IMDSv2 request with a token succeeds: the instance really enforces tokens."""
    group = clients.autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=[stack.outputs.asg_name])["AutoScalingGroups"][0]
    instance_id = next(i["InstanceId"] for i in group["Instances"]
                       if i["LifecycleState"] == "InService")
    script = [
        'v1=$(curl -s -o /dev/null -w "%{http_code}" http://169.254.169.254/latest/meta-data/)',
        'token=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" '
        'http://169.254.169.254/latest/api/token)',
        'v2=$(curl -s -o /dev/null -w "%{http_code}" -H "X-aws-ec2-metadata-token: $token" '
        'http://169.254.169.254/latest/meta-data/)',
        'echo "v1=$v1 v2=$v2"']
    command = clients.ssm.send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript",
                                       Parameters={"commands": script})["Command"]["CommandId"]
    deadline = time.monotonic() + 180
    while True:
        time.sleep(5)
        try:
            result = clients.ssm.get_command_invocation(CommandId=command, InstanceId=instance_id)
        except clients.ssm.exceptions.InvocationDoesNotExist:
            continue
        if result["Status"] not in ("Pending", "InProgress", "Delayed"):
            break
        assert time.monotonic() < deadline, "SSM command did not finish in 3 minutes"
    assert result["Status"] == "Success", result.get("StandardErrorContent")
    assert "v1=401" in result["StandardOutputContent"], result["StandardOutputContent"]
    assert "v2=200" in result["StandardOutputContent"], result["StandardOutputContent"]
