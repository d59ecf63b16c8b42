"""The application fleet: an AL2023 launch template (IMDSv2 only) and its Auto Scaling group.

Scales out at 70% CPU and in at 30%; business hours (America/New_York) raise the floor
to three instances, one per AZ.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from constructs import Construct
from cdktf import Fn, TerraformLocal, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup, AutoscalingGroupLaunchTemplate, AutoscalingGroupTag)
from cdktf_cdktf_provider_aws.autoscaling_policy import AutoscalingPolicy
from cdktf_cdktf_provider_aws.autoscaling_schedule import AutoscalingSchedule
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate, LaunchTemplateBlockDeviceMappings, LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile, LaunchTemplateMetadataOptions, LaunchTemplateMonitoring,
    LaunchTemplateNetworkInterfaces, LaunchTemplateTagSpecifications)

from stack.context import DB_PORT, STATIC_PATH, StackContext
from stack.userdata import UserDataSettings, render_user_data

def terraform_literal(script: str) -> str:
    """Escape shell ``${...}`` and ``%{`` so Terraform passes them through; keep cdktf tokens."""
    return re.sub(r"%\{", "%%{", re.sub(r"\$\{(?!TfToken\[)", "$${", script))


AL2023_AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
HEALTH_CHECK_GRACE_SECONDS = 300
ROOT_VOLUME_GB = 20


@dataclass(frozen=True)
class FleetProps:
    ctx: StackContext
    private_subnet_ids: list[str]
    security_group_id: str
    instance_profile_arn: str
    target_group_arn: str
    db_secret_arn: str
    db_host: str
    app_log_group_name: str
    alarm_topic_arn: str


class Fleet(Construct):
    def __init__(self, scope: Construct, id: str, *, props: FleetProps):
        super().__init__(scope, id)
        ctx, cap, sched = props.ctx, props.ctx.cfg.capacity, props.ctx.cfg.schedule
        names = ctx.names
        ami = DataAwsSsmParameter(self, "al2023-ami", name=AL2023_AMI_PARAMETER)
        user_data = render_user_data(UserDataSettings(
            region=ctx.region, secret_arn=props.db_secret_arn, db_host=props.db_host,
            db_port=DB_PORT, app_log_group=props.app_log_group_name,
            metrics_namespace=names.metrics_namespace, static_path=STATIC_PATH,
            environment=ctx.cfg.environment))
        # A local holds the script: cdktf's Fn.* refuse literal strings with double quotes.
        script = TerraformLocal(self, "user-data", terraform_literal(user_data))
        # ASG-launched instances and volumes ignore the provider's default_tags.
        launch_tags = {**ctx.cfg.tags, "Name": names.of("app")}
        self.launch_template = LaunchTemplate(
            self, "template", name=names.launch_template, image_id=ami.insecure_value,
            instance_type=ctx.cfg.instance_type, update_default_version=True,
            user_data=Fn.base64encode(script.as_string),
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=props.instance_profile_arn),
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
                instance_metadata_tags="enabled"),
            monitoring=LaunchTemplateMonitoring(enabled=True),
            network_interfaces=[LaunchTemplateNetworkInterfaces(
                associate_public_ip_address="false", delete_on_termination="true",
                security_groups=[props.security_group_id])],
            block_device_mappings=[LaunchTemplateBlockDeviceMappings(
                device_name="/dev/xvda", ebs=LaunchTemplateBlockDeviceMappingsEbs(
                    volume_type="gp3", volume_size=ROOT_VOLUME_GB, encrypted="true",
                    delete_on_termination="true"))],
            tag_specifications=[LaunchTemplateTagSpecifications(resource_type=kind, tags=launch_tags)
                                for kind in ("instance", "volume", "network-interface")])
        self.asg = AutoscalingGroup(
            self, "asg", name=names.asg, vpc_zone_identifier=props.private_subnet_ids,
            min_size=cap.min_size, max_size=cap.max_size, desired_capacity=cap.desired,
            launch_template=AutoscalingGroupLaunchTemplate(
                id=self.launch_template.id,
                version=Fn.tostring(self.launch_template.latest_version)),
            target_group_arns=[props.target_group_arn], health_check_type="ELB",
            health_check_grace_period=HEALTH_CHECK_GRACE_SECONDS,
            enabled_metrics=["GroupInServiceInstances", "GroupDesiredCapacity",
                             "GroupMinSize", "GroupMaxSize"],
            tag=[AutoscalingGroupTag(key=k, value=v, propagate_at_launch=True)
                 for k, v in launch_tags.items()],
            # Scaling policies and schedules own the desired count after creation.
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_capacity"]))

        for direction, adjustment, threshold, comparison in (
                ("up", 1, cap.scale_up_cpu_percent, "GreaterThanOrEqualToThreshold"),
                ("down", -1, cap.scale_down_cpu_percent, "LessThanOrEqualToThreshold")):
            step = AutoscalingPolicy(
                self, f"scale-{direction}", name=names.of(f"scale-{direction}"),
                autoscaling_group_name=self.asg.name, policy_type="SimpleScaling",
                adjustment_type="ChangeInCapacity", scaling_adjustment=adjustment, cooldown=300)
            actions = [step.arn] + ([props.alarm_topic_arn] if direction == "up" else [])
            CloudwatchMetricAlarm(
                self, f"cpu-{direction}", alarm_name=names.alarm(f"cpu-scale-{direction}"),
                alarm_description=f"Scale {direction} at CPU {threshold}%",
                namespace="AWS/EC2", metric_name="CPUUtilization", statistic="Average",
                dimensions={"AutoScalingGroupName": self.asg.name}, period=120,
                evaluation_periods=2, threshold=threshold, comparison_operator=comparison,
                alarm_actions=actions)

        AutoscalingSchedule(
            self, "business-hours-start", scheduled_action_name=names.of("business-start"),
            autoscaling_group_name=self.asg.name, recurrence=sched.business_start,
            time_zone=sched.time_zone, min_size=cap.business_hours_min, max_size=cap.max_size,
            desired_capacity=max(cap.desired, cap.business_hours_min))
        AutoscalingSchedule(
            self, "business-hours-end", scheduled_action_name=names.of("business-end"),
            autoscaling_group_name=self.asg.name, recurrence=sched.business_end,
            time_zone=sched.time_zone, min_size=cap.min_size, max_size=cap.max_size,
            desired_capacity=cap.desired)
