"""After a destroy: list anything in the target that still carries the deployment's suffix
(as a whole token, as the sweeper matches it: harness/suffix_match.py).

Used in the sandbox (CI asserts the list is empty). Resources that AWS itself keeps for a
while after deletion (KMS keys pending deletion, secrets scheduled for deletion, terminated
instances) are gone in AWS's sense and are not leftovers.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws_clients import AwsClients
from harness.suffix_match import Matcher


def _tag_values(tags) -> list[str]:
    if isinstance(tags, dict):
        return [str(v) for v in tags.values()]
    return [str(t.get("Value", "")) for t in tags or []]


def leftovers(clients: AwsClients, suffix: str) -> tuple[list[str], list[str]]:
    """(resources still carrying ``suffix``, listings that could not be checked)."""
    found: list[str] = []
    unchecked: list[str] = []
    carries_suffix = Matcher(suffix)

    def check(what: str, list_names: Callable[[], Iterable[str]]) -> None:
        try:
            found.extend(f"{what}: {name}" for name in list_names() if carries_suffix(name))
        except (ClientError, BotoCoreError, KeyError) as exc:
            unchecked.append(f"{what}: {exc}")

    c = clients
    check("s3 bucket", lambda: [b["Name"] for b in c.s3.list_buckets().get("Buckets", [])])
    check("vpc", lambda: [f"{v['VpcId']} {' '.join(_tag_values(v.get('Tags')))}"
                          for v in c.ec2.describe_vpcs()["Vpcs"]])
    check("subnet", lambda: [f"{s['SubnetId']} {' '.join(_tag_values(s.get('Tags')))}"
                             for s in c.ec2.describe_subnets()["Subnets"]])
    check("security group", lambda: [f"{g['GroupId']} {g['GroupName']}"
                                     for g in c.ec2.describe_security_groups()["SecurityGroups"]])
    check("nat gateway", lambda: [f"{n['NatGatewayId']} {' '.join(_tag_values(n.get('Tags')))}"
                                  for n in c.ec2.describe_nat_gateways()["NatGateways"]
                                  if n.get("State") not in ("deleted", "deleting")])
    check("elastic ip", lambda: [f"{a.get('AllocationId')} {' '.join(_tag_values(a.get('Tags')))}"
                                 for a in c.ec2.describe_addresses()["Addresses"]])
    check("launch template", lambda: [t["LaunchTemplateName"] for t in
                                      c.ec2.describe_launch_templates()["LaunchTemplates"]])
    check("instance", lambda: [f"{i['InstanceId']} {' '.join(_tag_values(i.get('Tags')))}"
                               for r in c.ec2.describe_instances()["Reservations"]
                               for i in r["Instances"]
                               if i["State"]["Name"] not in ("terminated", "shutting-down")])
    check("load balancer", lambda: [lb["LoadBalancerName"] for lb in
                                    c.elbv2.describe_load_balancers()["LoadBalancers"]])
    check("target group", lambda: [t["TargetGroupName"] for t in
                                   c.elbv2.describe_target_groups()["TargetGroups"]])
    check("auto scaling group", lambda: [g["AutoScalingGroupName"] for g in
                                         c.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]])
    check("rds cluster", lambda: [d["DBClusterIdentifier"] for d in
                                  c.rds.describe_db_clusters()["DBClusters"]])
    check("rds instance", lambda: [d["DBInstanceIdentifier"] for d in
                                   c.rds.describe_db_instances()["DBInstances"]])
    check("secret", lambda: [s["Name"] for s in c.secretsmanager.list_secrets()["SecretList"]
                             if "DeletedDate" not in s])
    check("lambda function", lambda: [f["FunctionName"] for f in
                                      c.client("lambda").list_functions()["Functions"]])
    check("sns topic", lambda: [t["TopicArn"] for t in c.sns.list_topics()["Topics"]])
    check("log group", lambda: [g["logGroupName"] for g in
                                c.logs.describe_log_groups()["logGroups"]])
    check("kms alias", lambda: [a["AliasName"] for a in c.kms.list_aliases()["Aliases"]])
    check("iam role", lambda: [r["RoleName"] for r in c.iam.list_roles()["Roles"]])
    check("waf web acl", lambda: [a["Name"] for a in
                                  c.wafv2.list_web_acls(Scope="CLOUDFRONT")["WebACLs"]])
    check("cloudfront distribution", lambda: [
        f"{d['Id']} {d.get('Comment', '')}" for d in
        (c.cloudfront.list_distributions().get("DistributionList", {}).get("Items") or [])])
    check("ssm parameter", lambda: [p["Name"] for p in
                                    c.ssm.describe_parameters()["Parameters"]])
    check("sqs queue", lambda: c.client("sqs").list_queues().get("QueueUrls", []))
    check("acm certificate", lambda: [
        f"{a['CertificateArn']} {a.get('DomainName', '')}" for a in
        c.acm.list_certificates()["CertificateSummaryList"]])
    return found, unchecked
