"""App services: Lambda functions, secrets, SNS topics, SQS queues, SSM parameters,
CloudWatch alarms, log groups.

A secret scheduled for deletion is already gone in AWS's sense (its name is taken until
the window ends, but nothing reads it): the finder marks it so, it is never a leftover.
"""
from __future__ import annotations

from harness.sweep.core import Found, Stage, Sweep, deleter, finder, pages


@finder
def find_app_services(s: Sweep, out: list[Found]) -> None:
    c = s.c
    with s.listing("lambda functions"):
        for f in pages(c.client("lambda"), "list_functions", "Functions"):
            why = s.hit(f["FunctionName"], arn=f["FunctionArn"])
            if why:
                out.append(Found("lambda function", f["FunctionName"], f["FunctionName"], why,
                                 arn=f["FunctionArn"]))
    with s.listing("secrets"):
        for sec in pages(c.secretsmanager, "list_secrets", "SecretList",
                         IncludePlannedDeletion=True):
            if "DeletedDate" in sec:
                s.gone.add(sec["ARN"])
                continue
            why = s.hit(sec["Name"], tags=sec.get("Tags"), arn=sec["ARN"])
            if why:
                out.append(Found("secret", sec["ARN"], sec["Name"], why, arn=sec["ARN"]))
    with s.listing("sns topics"):
        for t in pages(c.sns, "list_topics", "Topics"):
            arn = t["TopicArn"]
            why = s.hit(arn.rsplit(":", 1)[-1], arn=arn)
            if why:
                out.append(Found("sns topic", arn, arn, why, arn=arn))
    with s.listing("sqs queues"):
        for url in pages(c.client("sqs"), "list_queues", "QueueUrls"):
            why = s.hit(url.rsplit("/", 1)[-1])
            if why:
                out.append(Found("sqs queue", url, url, why))
    with s.listing("ssm parameters"):
        for p in pages(c.ssm, "describe_parameters", "Parameters"):
            why = s.hit(p["Name"])
            if why:
                out.append(Found("ssm parameter", p["Name"], p["Name"], why))
    with s.listing("cloudwatch alarms"):
        for a in pages(c.cloudwatch, "describe_alarms", "MetricAlarms"):
            why = s.hit(a["AlarmName"], arn=a.get("AlarmArn", ""))
            if why:
                out.append(Found("cloudwatch alarm", a["AlarmName"], a["AlarmName"], why,
                                 arn=a.get("AlarmArn", "")))
    with s.listing("log groups"):
        for g in pages(c.logs, "describe_log_groups", "logGroups"):
            arn = g.get("arn", "").removesuffix(":*")
            why = s.hit(g["logGroupName"], arn=arn)
            if why:
                out.append(Found("log group", g["logGroupName"], g["logGroupName"], why, arn=arn))


# ---- deleters, in delete order
@deleter("lambda function", Stage.APP_SERVICES)
def _del_function(s: Sweep, f: Found) -> None:
    s.c.client("lambda").delete_function(FunctionName=f.id)


@deleter("secret", Stage.APP_SERVICES)
def _del_secret(s: Sweep, f: Found) -> None:
    # A crashed run's secret must not wait out a recovery window (the name stays taken).
    s.c.secretsmanager.delete_secret(SecretId=f.id, ForceDeleteWithoutRecovery=True)


@deleter("sns topic", Stage.APP_SERVICES)
def _del_topic(s: Sweep, f: Found) -> None:
    s.c.sns.delete_topic(TopicArn=f.id)


@deleter("sqs queue", Stage.APP_SERVICES, "AWS.SimpleQueueService.NonExistentQueue")
def _del_queue(s: Sweep, f: Found) -> None:
    s.c.client("sqs").delete_queue(QueueUrl=f.id)


@deleter("ssm parameter", Stage.APP_SERVICES, "ParameterNotFound")
def _del_parameter(s: Sweep, f: Found) -> None:
    s.c.ssm.delete_parameter(Name=f.id)


@deleter("cloudwatch alarm", Stage.APP_SERVICES)
def _del_alarm(s: Sweep, f: Found) -> None:
    s.c.cloudwatch.delete_alarms(AlarmNames=[f.id])


@deleter("log group", Stage.APP_SERVICES)
def _del_log_group(s: Sweep, f: Found) -> None:
    s.c.logs.delete_log_group(logGroupName=f.id)
