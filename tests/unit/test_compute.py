
import pytest

pytestmark = pytest.mark.unit


@pytest.mark.control("1.3.1", "2.2.6")
def test_launch_template_requires_imdsv2_and_has_no_public_ip(prod):
    lt = prod.one("aws_launch_template")
    meta = lt["metadata_options"]
    assert meta["http_tokens"] == "required" and meta["http_endpoint"] == "enabled"
    assert meta["http_put_response_hop_limit"] == 1
    assert lt["network_interfaces"][0]["associate_public_ip_address"] == "false"
    assert lt["instance_type"] == "t3.large"
    assert lt["monitoring"]["enabled"] is True
    assert "iam_instance_profile" in lt and "aws_iam_instance_profile" in lt["iam_instance_profile"]["arn"]


@pytest.mark.control("3.5.1")
def test_root_volume_is_encrypted_gp3(prod):
    ebs = prod.one("aws_launch_template")["block_device_mappings"][0]["ebs"]
    assert ebs["volume_type"] == "gp3" and ebs["encrypted"] == "true"


def test_ami_is_amazon_linux_2023_from_the_public_ssm_parameter(prod):
    (param,) = prod.data["aws_ssm_parameter"].values()
    assert param["name"].startswith("/aws/service/ami-amazon-linux-latest/al2023-ami")
    assert "data.aws_ssm_parameter" in prod.one("aws_launch_template")["image_id"]


@pytest.mark.control("12.5.1")
def test_instances_and_volumes_are_tagged_at_launch(prod):
    specs = {s["resource_type"]: s["tags"] for s in prod.one("aws_launch_template")["tag_specifications"]}
    for kind in ("instance", "volume"):
        assert {"Environment": "prod", "Application": "fintxn", "CostCenter": "CC-1001"}.items() <= specs[kind].items()


def test_user_data_is_the_rendered_application_installer(prod):
    lt = prod.one("aws_launch_template")
    assert lt["user_data"].startswith("${base64encode(local.")
    (script,) = prod.doc["locals"].values()
    assert script.startswith("#!/bin/bash")
    assert "aws_secretsmanager_secret" in script and "aws_rds_cluster" in script


@pytest.mark.control("1.4.1")
def test_asg_spans_the_private_subnets_with_elb_health_checks(prod):
    asg = prod.one("aws_autoscaling_group")
    private = {prod.ref("aws_subnet", s, "id") for s in prod.list("aws_subnet")
               if s["tags"]["Tier"] == "private"}
    assert set(asg["vpc_zone_identifier"]) == private
    assert asg["health_check_type"] == "ELB" and asg["health_check_grace_period"] >= 60
    assert asg["min_size"] <= asg["desired_capacity"] <= asg["max_size"]
    assert "aws_lb_target_group" in asg["target_group_arns"][0]
    assert "latest_version" in asg["launch_template"]["version"]
    assert {t["key"] for t in asg["tag"] if t["propagate_at_launch"]} >= {
        "Environment", "Application", "CostCenter", "Name"}


def test_cpu_scaling_up_at_70_and_down_at_30(prod):
    alarms = {a["alarm_name"]: a for a in prod.list("aws_cloudwatch_metric_alarm")}
    up = alarms["alarm-cpu-scale-up-prod-unit01"]
    down = alarms["alarm-cpu-scale-down-prod-unit01"]
    assert (up["threshold"], up["comparison_operator"]) == (70, "GreaterThanOrEqualToThreshold")
    assert (down["threshold"], down["comparison_operator"]) == (30, "LessThanOrEqualToThreshold")
    policies = {p["scaling_adjustment"] for p in prod.list("aws_autoscaling_policy")}
    assert policies == {1, -1}
    assert any("aws_autoscaling_policy" in a for a in up["alarm_actions"])


def test_business_hours_schedule_in_new_york(prod):
    schedules = {s["scheduled_action_name"]: s for s in prod.list("aws_autoscaling_schedule")}
    start = schedules["business-start-prod-unit01"]
    end = schedules["business-end-prod-unit01"]
    assert start["time_zone"] == end["time_zone"] == "America/New_York"
    assert start["recurrence"] == "0 8 * * MON-FRI" and start["min_size"] >= 3
    assert end["recurrence"] == "0 18 * * MON-FRI" and end["min_size"] < start["min_size"]
