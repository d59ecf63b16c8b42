"""Log groups, the alert topic, metric filters and alarms.

``Logging`` comes first (everything writes to it); ``Alarms`` comes last (it watches
everything). Every log group is KMS-encrypted with an explicit retention.
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.cloudwatch_log_metric_filter import (
    CloudwatchLogMetricFilter, CloudwatchLogMetricFilterMetricTransformation)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription

from stack import app_log_contract as contract
from stack.context import StackContext

DB_LOG_EXPORTS = ("audit", "error", "slowquery")
# Metric filters on the application log: (id, pattern, metric name).
APP_LOG_METRICS = (
    ("http-5xx", contract.HTTP_5XX_PATTERN, "Http5xx"),
    ("exceptions", contract.EXCEPTION_PATTERN, "Exceptions"),
    ("db-failures", contract.DB_FAILURE_PATTERN, "DbConnectivityFailures"),
)


@dataclass(frozen=True)
class LoggingProps:
    ctx: StackContext
    logs_key_arn: str


class Logging(Construct):
    def __init__(self, scope: Construct, id: str, *, props: LoggingProps):
        super().__init__(scope, id)
        ctx = props.ctx
        names = ctx.names

        def group(gid: str, name: str) -> CloudwatchLogGroup:
            return CloudwatchLogGroup(self, gid, name=name, kms_key_id=props.logs_key_arn,
                                      retention_in_days=ctx.cfg.log_retention_days)

        self.app = group("app", names.app_log_group)
        self.rotation = group("rotation", names.rotation_log_group)
        self.flow = group("flow", names.flow_log_group)
        self.waf = group("waf", names.waf_log_group)
        # Created before the cluster so RDS exports into encrypted, retained groups.
        self.db = {kind: group(f"db-{kind}", names.db_log_group(kind)) for kind in DB_LOG_EXPORTS}

        self.topic = SnsTopic(self, "alerts", name=names.sns_topic,
                              kms_master_key_id=props.logs_key_arn)
        for i, email in enumerate(ctx.cfg.alert_emails):
            SnsTopicSubscription(self, f"alert-email-{i}", topic_arn=self.topic.arn,
                                 protocol="email", endpoint=email)

        for fid, pattern, metric in APP_LOG_METRICS:
            CloudwatchLogMetricFilter(
                self, f"filter-{fid}", name=names.of(f"filter-{fid}"),
                log_group_name=self.app.name, pattern=pattern,
                metric_transformation=CloudwatchLogMetricFilterMetricTransformation(
                    name=metric, namespace=names.metrics_namespace, value="1",
                    default_value="0"))

    @property
    def all_groups(self) -> list[CloudwatchLogGroup]:
        return [self.app, self.rotation, self.flow, self.waf, *self.db.values()]


@dataclass(frozen=True)
class AlarmsProps:
    ctx: StackContext
    topic_arn: str
    alb_arn_suffix: str
    target_group_arn_suffix: str
    asg_name: str
    db_cluster_id: str
    rotation_lambda_name: str
    web_acl_name: str
    db_max_connections_alarm: int = 500


class Alarms(Construct):
    def __init__(self, scope: Construct, id: str, *, props: AlarmsProps):
        super().__init__(scope, id)
        ctx, p = props.ctx, props
        topic = [p.topic_arn]

        def alarm(aid: str, description: str, namespace: str, metric: str,
                  dimensions: dict[str, str], threshold: float, *, statistic: str = "Sum",
                  comparison: str = "GreaterThanThreshold", periods: int = 1,
                  period: int = 300) -> None:
            CloudwatchMetricAlarm(
                self, aid, alarm_name=ctx.names.alarm(aid), alarm_description=description,
                namespace=namespace, metric_name=metric, dimensions=dimensions,
                statistic=statistic, comparison_operator=comparison, threshold=threshold,
                evaluation_periods=periods, period=period, treat_missing_data="notBreaching",
                alarm_actions=topic, ok_actions=topic)

        alb = {"LoadBalancer": p.alb_arn_suffix}
        tg = {"LoadBalancer": p.alb_arn_suffix, "TargetGroup": p.target_group_arn_suffix}
        alarm("alb-5xx", "ALB answered 5xx itself", "AWS/ApplicationELB",
              "HTTPCode_ELB_5XX_Count", alb, 10)
        alarm("target-5xx", "Targets answered 5xx", "AWS/ApplicationELB",
              "HTTPCode_Target_5XX_Count", tg, 10)
        alarm("unhealthy-hosts", "A target failed /health (database unreachable over TLS?)",
              "AWS/ApplicationELB", "UnHealthyHostCount", tg, 0, statistic="Maximum",
              periods=2, period=60)
        alarm("response-time", "p99 target response time above 2 s", "AWS/ApplicationELB",
              "TargetResponseTime", tg, 2, statistic="Average", periods=3, period=60)
        alarm("asg-cpu", "Fleet CPU above 85% for 10 minutes despite scaling", "AWS/EC2",
              "CPUUtilization", {"AutoScalingGroupName": p.asg_name}, 85,
              statistic="Average", periods=2)
        alarm("aurora-cpu", "Aurora CPU above 80%", "AWS/RDS", "CPUUtilization",
              {"DBClusterIdentifier": p.db_cluster_id}, 80, statistic="Average", periods=2)
        alarm("aurora-connections", "Aurora connections near the instance limit", "AWS/RDS",
              "DatabaseConnections", {"DBClusterIdentifier": p.db_cluster_id},
              p.db_max_connections_alarm, statistic="Maximum")
        alarm("rotation-errors", "The credential rotation Lambda failed", "AWS/Lambda",
              "Errors", {"FunctionName": p.rotation_lambda_name}, 0)
        alarm("waf-blocked-spike", "WAF blocked requests spiked (attack or false positives)",
              "AWS/WAFV2", "BlockedRequests", {"WebACL": p.web_acl_name, "Rule": "ALL"}, 1000)
        for fid, _, metric in APP_LOG_METRICS:
            alarm(f"app-{fid}", f"Application log metric {metric}", ctx.names.metrics_namespace,
                  metric, {}, 5 if fid == "http-5xx" else 0)
