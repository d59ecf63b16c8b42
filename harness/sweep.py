"""Sweeper: find, and on request delete, what a crashed run left behind (cloud-nuke style).

    python -m harness.sweep --suffix S                      # sandbox, dry run: list only
    python -m harness.sweep --suffix S --delete             # delete, in dependency order
    python -m harness.sweep --suffix S --target aws --stack-config=nightly.json [--delete]

A resource belongs to run S when its name, ARN or one of its tag values holds S as a whole
token (``alb-dev-S``, ``/harness/S``, Name=``vpc-dev-S``), or when it sits inside a VPC that
does (the VPC's subnets, route tables, security groups, gateways). Tags come from the
Resource Groups Tagging API and from each describe call that returns them; the describe
calls also cover what the tagging API misses (IAM, KMS aliases, WAF, launch templates,
RDS groups, security group rules, ...). Every tagged ARN that no describe call claims is
still listed, as "tagged, no deleter", so nothing the tagging API sees goes unreported.

Safety: dry run unless --delete. The sandbox target takes loopback endpoints only. The aws
target refuses to run unless STS says the caller's account is in ``allowed_account_ids``
of the stack config (the same allow-list the plugin deploys under). A suffix shorter than
4 characters is refused: it would match names that are not the run's.

Exit codes: 0 nothing left (or dry run done), 1 something could not be deleted, 2 refused.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws_clients import AwsClients
from harness.suffix_match import Matcher
from stack.config import ConfigError, is_suffix_shape, read_config_file
from stack.config import loopback_problem

MIN_SUFFIX = 4


class SweepRefused(RuntimeError):
    """The sweep will not run against this target; the message says what to change."""


@dataclass
class Found:
    kind: str
    id: str                 # what the delete call takes
    label: str              # what a human recognizes (name, ARN)
    why: str = "name"       # name | tag | vpc (inside a matched VPC) | alias | member
    arn: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.kind:<28} {self.label}  (by {self.why})"


def _pages(client, op: str, key: str, **kwargs) -> list[Any]:
    if client.can_paginate(op):
        return [item for page in client.get_paginator(op).paginate(**kwargs)
                for item in page.get(key, []) or []]
    return getattr(client, op)(**kwargs).get(key, []) or []


def _code(exc: Exception) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


# ---------------------------------------------------------------------------- finders
# Each finder appends to ``out``; ``ctx`` carries what later finders need (matched VPCs,
# tagged ARNs). Discovery order matters only for ctx; deletion order is DELETE_ORDER.
class Sweep:
    def __init__(self, clients: AwsClients, suffix: str, log: Callable[[str], None] = print):
        if not is_suffix_shape(suffix) or len(suffix) < MIN_SUFFIX:
            raise SweepRefused(f"--suffix {suffix!r}: give the run's suffix (lowercase letters, "
                               f"digits, single hyphens, at least {MIN_SUFFIX} characters): a "
                               "shorter one would match resources of other runs")
        self.c = clients
        self.match = Matcher(suffix)
        self.suffix = suffix
        self.log = log
        self.unchecked: list[str] = []
        self.tagged: dict[str, dict[str, str]] = {}
        # Ids the describe calls show as already going away (terminated instances, deleted
        # NAT gateways, keys pending deletion): the tagging API still lists them for a while.
        self.gone: set[str] = set()

    # ------------------------------------------------------------------ find
    def find(self) -> list[Found]:
        out: list[Found] = []
        self.unchecked = []
        self.tagged = self._tagged_arns()
        self.vpcs: set[str] = set()
        self.gone = set()
        for finder in FINDERS:
            try:
                finder(self, out)
            except (ClientError, BotoCoreError) as exc:
                self.unchecked.append(f"{finder.__name__}: {exc}")
        claimed = {f.arn for f in out if f.arn} | {f.id for f in out}
        for arn in sorted(self.tagged):
            tail = re.split(r"[/:]", arn)[-1]
            if tail in self.gone:
                continue
            if arn not in claimed and not any(arn.endswith(c) or c.endswith(arn) for c in claimed):
                out.append(Found("tagged, no deleter", arn, arn, why="tag", arn=arn))
        return out

    def _tagged_arns(self) -> dict[str, dict[str, str]]:
        try:
            items = _pages(self.c.resourcegroupstaggingapi, "get_resources", "ResourceTagMappingList")
        except (ClientError, BotoCoreError) as exc:
            self.unchecked.append(f"tagging api: {exc}")
            return {}
        return {i["ResourceARN"]: {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                for i in items if self.match.tags(i.get("Tags")) or self.match(i["ResourceARN"])}

    def hit(self, *names: Any, tags: Any = None, arn: str = "") -> str | None:
        if self.match(*names):
            return "name"
        if tags is not None and self.match.tags(tags):
            return "tag"
        if arn and (arn in self.tagged or self.match(arn)):
            return "tag"
        return None

    # ------------------------------------------------------------------ delete
    def delete(self, found: list[Found], rounds: int = 4, pause: float = 2.0) -> list[str]:
        """Delete in dependency order; repeat what failed (DependencyViolation while a
        dependent is still going away). Returns the errors of the last round."""
        pending = [f for f in found if f.kind in DELETERS]
        pending.sort(key=lambda f: DELETE_ORDER.index(f.kind))
        errors: list[str] = []
        for round_no in range(rounds):
            errors, failed = [], []
            for f in pending:
                try:
                    DELETERS[f.kind](self, f)
                    self.log(f"deleted  {f.line()}")
                except (ClientError, BotoCoreError) as exc:
                    if _code(exc) in _GONE:
                        continue
                    failed.append(f)
                    errors.append(f"{f.kind} {f.label}: {exc}")
            if not failed:
                return []
            pending = failed
            if round_no < rounds - 1:
                time.sleep(pause * (round_no + 1))
        return errors


_GONE = {"NoSuchEntity", "NoSuchBucket", "ResourceNotFoundException", "NotFoundException",
         "DBInstanceNotFound", "DBClusterNotFoundFault", "DBSubnetGroupNotFoundFault",
         "InvalidVpcID.NotFound", "InvalidSubnetID.NotFound", "InvalidGroup.NotFound",
         "InvalidRouteTableID.NotFound", "InvalidInternetGatewayID.NotFound",
         "InvalidAllocationID.NotFound", "NatGatewayNotFound", "LoadBalancerNotFound",
         "TargetGroupNotFound", "ParameterNotFound", "NoSuchDistribution", "WAFNonexistentItemException",
         "AWS.SimpleQueueService.NonExistentQueue", "InvalidLaunchTemplateId.NotFound",
         "DBClusterParameterGroupNotFound", "DBParameterGroupNotFound", "NoSuchOriginAccessControl"}


def _name_tag(tags: Iterable[dict] | None) -> str:
    return next((t["Value"] for t in tags or [] if t.get("Key") == "Name"), "")


FINDERS: list[Callable[[Sweep, list[Found]], None]] = []
DELETERS: dict[str, Callable[[Sweep, Found], None]] = {}
# Dependents before what they depend on: the edge (CloudFront, WAF) first, then compute,
# load balancing, database, app services, keys and IAM, the network, storage, certificates.
DELETE_ORDER = [
    "cloudfront distribution", "cloudfront oac", "wafv2 web acl", "autoscaling group",
    "ec2 instance", "ec2 launch template", "elbv2 load balancer", "elbv2 target group",
    "lambda function", "rds instance", "rds cluster", "rds subnet group",
    "rds cluster parameter group", "rds parameter group", "secret", "sns topic", "sqs queue",
    "ssm parameter", "cloudwatch alarm", "log group", "kms alias", "kms key",
    "iam instance profile", "iam role", "iam policy", "ec2 flow log", "ec2 nat gateway",
    "ec2 network interface", "ec2 elastic ip", "ec2 internet gateway", "ec2 subnet",
    "ec2 route table", "ec2 security group rules", "ec2 security group", "ec2 vpc", "s3 bucket", "acm certificate",
]


def finder(fn):
    FINDERS.append(fn)
    return fn


def deleter(kind: str):
    def register(fn):
        assert kind in DELETE_ORDER, kind
        DELETERS[kind] = fn
        return fn
    return register


# ---- network first: later finders claim what sits inside a matched VPC
@finder
def find_vpcs(s: Sweep, out: list[Found]) -> None:
    for v in s.c.ec2.describe_vpcs()["Vpcs"]:
        why = s.hit(_name_tag(v.get("Tags")), tags=v.get("Tags"))
        if why:
            s.vpcs.add(v["VpcId"])
            out.append(Found("ec2 vpc", v["VpcId"], f"{v['VpcId']} {_name_tag(v.get('Tags'))}", why))


def _in_vpc(s: Sweep, item: dict) -> str | None:
    why = s.hit(_name_tag(item.get("Tags")), tags=item.get("Tags"))
    return why or ("vpc" if item.get("VpcId") in s.vpcs else None)


@finder
def find_network(s: Sweep, out: list[Found]) -> None:
    ec2 = s.c.ec2
    for n in ec2.describe_nat_gateways()["NatGateways"]:
        if n.get("State") in ("deleted", "deleting"):
            s.gone.add(n["NatGatewayId"])
            continue
        why = _in_vpc(s, n)
        if why:
            out.append(Found("ec2 nat gateway", n["NatGatewayId"],
                             f"{n['NatGatewayId']} {_name_tag(n.get('Tags'))}", why))
    for a in ec2.describe_addresses()["Addresses"]:
        why = s.hit(_name_tag(a.get("Tags")), tags=a.get("Tags"))
        if why:
            out.append(Found("ec2 elastic ip", a["AllocationId"],
                             f"{a['AllocationId']} {_name_tag(a.get('Tags'))}", why,
                             extra={"association": a.get("AssociationId")}))
    for g in ec2.describe_internet_gateways()["InternetGateways"]:
        vpcs = [x["VpcId"] for x in g.get("Attachments", [])]
        why = s.hit(_name_tag(g.get("Tags")), tags=g.get("Tags")) or (
            "vpc" if set(vpcs) & s.vpcs else None)
        if why:
            out.append(Found("ec2 internet gateway", g["InternetGatewayId"],
                             f"{g['InternetGatewayId']} {_name_tag(g.get('Tags'))}", why,
                             extra={"vpcs": vpcs}))
    for sn in ec2.describe_subnets()["Subnets"]:
        why = _in_vpc(s, sn)
        if why:
            out.append(Found("ec2 subnet", sn["SubnetId"],
                             f"{sn['SubnetId']} {_name_tag(sn.get('Tags'))}", why))
    for rt in ec2.describe_route_tables()["RouteTables"]:
        if any(a.get("Main") for a in rt.get("Associations", [])):
            continue  # goes with its VPC
        why = _in_vpc(s, rt)
        if why:
            out.append(Found("ec2 route table", rt["RouteTableId"],
                             f"{rt['RouteTableId']} {_name_tag(rt.get('Tags'))}", why,
                             extra={"associations": [a["RouteTableAssociationId"] for a in
                                                     rt.get("Associations", [])]}))
    for sg in ec2.describe_security_groups()["SecurityGroups"]:
        if sg["GroupName"] == "default":
            continue  # goes with its VPC
        why = s.hit(sg["GroupName"], tags=sg.get("Tags")) or (
            "vpc" if sg.get("VpcId") in s.vpcs else None)
        if why:
            label = f"{sg['GroupId']} {sg['GroupName']}"
            if sg.get("IpPermissions") or sg.get("IpPermissionsEgress"):
                out.append(Found("ec2 security group rules", sg["GroupId"], label, why,
                                 extra={"ingress": sg.get("IpPermissions", []),
                                        "egress": sg.get("IpPermissionsEgress", [])}))
            out.append(Found("ec2 security group", sg["GroupId"], label, why))
    for fl in ec2.describe_flow_logs()["FlowLogs"]:
        why = s.hit(tags=fl.get("Tags")) or ("vpc" if fl.get("ResourceId") in s.vpcs else None)
        if why:
            out.append(Found("ec2 flow log", fl["FlowLogId"], fl["FlowLogId"], why))
    if s.vpcs:
        for eni in ec2.describe_network_interfaces(
                Filters=[{"Name": "vpc-id", "Values": sorted(s.vpcs)}])["NetworkInterfaces"]:
            if eni.get("Status") == "available":  # in-use ones go with their owner
                out.append(Found("ec2 network interface", eni["NetworkInterfaceId"],
                                 eni["NetworkInterfaceId"], "vpc"))


@finder
def find_compute(s: Sweep, out: list[Found]) -> None:
    for g in s.c.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]:
        why = s.hit(g["AutoScalingGroupName"], tags=g.get("Tags"), arn=g.get("AutoScalingGroupARN", ""))
        if why:
            out.append(Found("autoscaling group", g["AutoScalingGroupName"],
                             g["AutoScalingGroupName"], why, arn=g.get("AutoScalingGroupARN", "")))
    for r in s.c.ec2.describe_instances()["Reservations"]:
        for i in r["Instances"]:
            if i["State"]["Name"] in ("terminated", "shutting-down"):
                s.gone.add(i["InstanceId"])
                continue
            why = _in_vpc(s, i)
            if why:
                out.append(Found("ec2 instance", i["InstanceId"],
                                 f"{i['InstanceId']} {_name_tag(i.get('Tags'))}", why))
    for t in s.c.ec2.describe_launch_templates()["LaunchTemplates"]:
        why = s.hit(t["LaunchTemplateName"], tags=t.get("Tags"))
        if why:
            out.append(Found("ec2 launch template", t["LaunchTemplateId"], t["LaunchTemplateName"], why))


@finder
def find_load_balancing(s: Sweep, out: list[Found]) -> None:
    elb = s.c.elbv2
    for lb in elb.describe_load_balancers()["LoadBalancers"]:
        why = s.hit(lb["LoadBalancerName"], arn=lb["LoadBalancerArn"]) or (
            "vpc" if lb.get("VpcId") in s.vpcs else None)
        if why:
            out.append(Found("elbv2 load balancer", lb["LoadBalancerArn"], lb["LoadBalancerName"],
                             why, arn=lb["LoadBalancerArn"]))
    for tg in elb.describe_target_groups()["TargetGroups"]:
        why = s.hit(tg["TargetGroupName"], arn=tg["TargetGroupArn"]) or (
            "vpc" if tg.get("VpcId") in s.vpcs else None)
        if why:
            out.append(Found("elbv2 target group", tg["TargetGroupArn"], tg["TargetGroupName"],
                             why, arn=tg["TargetGroupArn"]))


@finder
def find_database(s: Sweep, out: list[Found]) -> None:
    rds = s.c.rds
    clusters = set()
    for c in rds.describe_db_clusters()["DBClusters"]:
        why = s.hit(c["DBClusterIdentifier"], tags=c.get("TagList"), arn=c.get("DBClusterArn", ""))
        if why:
            clusters.add(c["DBClusterIdentifier"])
            out.append(Found("rds cluster", c["DBClusterIdentifier"], c["DBClusterIdentifier"], why,
                             arn=c.get("DBClusterArn", ""),
                             extra={"protected": c.get("DeletionProtection", False)}))
    for i in rds.describe_db_instances()["DBInstances"]:
        why = s.hit(i["DBInstanceIdentifier"], tags=i.get("TagList"), arn=i.get("DBInstanceArn", "")) \
            or ("member" if i.get("DBClusterIdentifier") in clusters else None)
        if why:
            out.append(Found("rds instance", i["DBInstanceIdentifier"], i["DBInstanceIdentifier"],
                             why, arn=i.get("DBInstanceArn", "")))
    for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]:
        why = s.hit(g["DBSubnetGroupName"], arn=g.get("DBSubnetGroupArn", ""))
        if why:
            out.append(Found("rds subnet group", g["DBSubnetGroupName"], g["DBSubnetGroupName"],
                             why, arn=g.get("DBSubnetGroupArn", "")))
    for kind, op, prefix in (("rds cluster parameter group", "describe_db_cluster_parameter_groups",
                              "DBClusterParameterGroup"),
                             ("rds parameter group", "describe_db_parameter_groups", "DBParameterGroup")):
        for g in getattr(rds, op)()[prefix + "s"]:
            name, arn = g[prefix + "Name"], g.get(prefix + "Arn", "")
            why = None if name.startswith("default.") else s.hit(name, arn=arn)  # AWS's own
            if why:
                out.append(Found(kind, name, name, why, arn=arn))


@finder
def find_app_services(s: Sweep, out: list[Found]) -> None:
    for f in _pages(s.c.client("lambda"), "list_functions", "Functions"):
        why = s.hit(f["FunctionName"], arn=f["FunctionArn"])
        if why:
            out.append(Found("lambda function", f["FunctionName"], f["FunctionName"], why,
                             arn=f["FunctionArn"]))
    for sec in _pages(s.c.secretsmanager, "list_secrets", "SecretList"):
        if "DeletedDate" in sec:
            continue  # scheduled for deletion: gone in AWS's sense
        why = s.hit(sec["Name"], tags=sec.get("Tags"), arn=sec["ARN"])
        if why:
            out.append(Found("secret", sec["ARN"], sec["Name"], why, arn=sec["ARN"]))
    for t in _pages(s.c.sns, "list_topics", "Topics"):
        arn = t["TopicArn"]
        why = s.hit(arn.rsplit(":", 1)[-1], arn=arn)
        if why:
            out.append(Found("sns topic", arn, arn, why, arn=arn))
    for url in s.c.client("sqs").list_queues().get("QueueUrls", []):
        why = s.hit(url.rsplit("/", 1)[-1])
        if why:
            out.append(Found("sqs queue", url, url, why))
    for p in _pages(s.c.ssm, "describe_parameters", "Parameters"):
        why = s.hit(p["Name"])
        if why:
            out.append(Found("ssm parameter", p["Name"], p["Name"], why))
    for a in _pages(s.c.cloudwatch, "describe_alarms", "MetricAlarms"):
        why = s.hit(a["AlarmName"], arn=a.get("AlarmArn", ""))
        if why:
            out.append(Found("cloudwatch alarm", a["AlarmName"], a["AlarmName"], why,
                             arn=a.get("AlarmArn", "")))
    for g in _pages(s.c.logs, "describe_log_groups", "logGroups"):
        arn = g.get("arn", "").removesuffix(":*")
        why = s.hit(g["logGroupName"], arn=arn)
        if why:
            out.append(Found("log group", g["logGroupName"], g["logGroupName"], why, arn=arn))


@finder
def find_keys_and_iam(s: Sweep, out: list[Found]) -> None:
    kms = s.c.kms
    keys_by_alias: set[str] = set()
    for a in _pages(kms, "list_aliases", "Aliases"):
        if a["AliasName"].startswith("alias/aws/"):
            continue
        if s.match(a["AliasName"]):
            out.append(Found("kms alias", a["AliasName"], a["AliasName"], "name"))
            if a.get("TargetKeyId"):
                keys_by_alias.add(a["TargetKeyId"])
    for k in _pages(kms, "list_keys", "Keys"):
        meta = kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]
        if meta.get("KeyManager") == "AWS" or meta.get("KeyState") in ("PendingDeletion",
                                                                       "PendingReplicaDeletion"):
            s.gone.add(k["KeyId"])
            continue
        why = s.hit(meta.get("Description", ""), arn=meta["Arn"]) or (
            "alias" if k["KeyId"] in keys_by_alias else None)
        if not why:
            tags = kms.list_resource_tags(KeyId=k["KeyId"]).get("Tags", [])
            why = "tag" if s.match.tags(tags) else None
        if why:
            out.append(Found("kms key", k["KeyId"], f"{k['KeyId']} {meta.get('Description', '')}",
                             why, arn=meta["Arn"]))
    iam = s.c.iam
    for p in _pages(iam, "list_instance_profiles", "InstanceProfiles"):
        why = s.hit(p["InstanceProfileName"], arn=p["Arn"])
        if why:
            out.append(Found("iam instance profile", p["InstanceProfileName"], p["InstanceProfileName"],
                             why, arn=p["Arn"], extra={"roles": [r["RoleName"] for r in p.get("Roles", [])]}))
    for r in _pages(iam, "list_roles", "Roles"):
        if r.get("Path", "/").startswith("/aws-service-role/"):
            continue  # AWS owns service-linked roles
        why = s.hit(r["RoleName"], arn=r["Arn"])
        if why:
            out.append(Found("iam role", r["RoleName"], r["RoleName"], why, arn=r["Arn"]))
    for p in _pages(iam, "list_policies", "Policies", Scope="Local"):
        why = s.hit(p["PolicyName"], arn=p["Arn"])
        if why:
            out.append(Found("iam policy", p["Arn"], p["PolicyName"], why, arn=p["Arn"]))


@finder
def find_edge_and_storage(s: Sweep, out: list[Found]) -> None:
    cf = s.c.cloudfront
    for d in (cf.list_distributions().get("DistributionList", {}).get("Items") or []):
        # The stack names a distribution only in its Comment, which some listings omit.
        comment = d.get("Comment") or cf.get_distribution_config(Id=d["Id"])[
            "DistributionConfig"].get("Comment", "")
        d["Comment"] = comment
        why = s.hit(comment, *[o.get("DomainName") for o in
                               d.get("Origins", {}).get("Items", [])], arn=d["ARN"])
        if not why:
            tags = cf.list_tags_for_resource(Resource=d["ARN"]).get("Tags", {}).get("Items", [])
            why = "tag" if s.match.tags(tags) else None
        if why:
            out.append(Found("cloudfront distribution", d["Id"], f"{d['Id']} {d.get('Comment', '')}",
                             why, arn=d["ARN"]))
    for o in (cf.list_origin_access_controls().get("OriginAccessControlList", {}).get("Items") or []):
        if s.match(o.get("Name", "")):
            out.append(Found("cloudfront oac", o["Id"], o["Name"], "name"))
    for scope in ("CLOUDFRONT", "REGIONAL"):
        for a in s.c.wafv2.list_web_acls(Scope=scope)["WebACLs"]:
            why = s.hit(a["Name"], arn=a["ARN"])
            if why:
                out.append(Found("wafv2 web acl", a["Id"], a["Name"], why, arn=a["ARN"],
                                 extra={"scope": scope, "name": a["Name"]}))
    for b in s.c.s3.list_buckets().get("Buckets", []):
        arn = f"arn:aws:s3:::{b['Name']}"
        why = s.hit(b["Name"], arn=arn)
        if why:
            out.append(Found("s3 bucket", b["Name"], b["Name"], why, arn=arn))
    for c in _pages(s.c.acm, "list_certificates", "CertificateSummaryList"):
        why = s.hit(c.get("DomainName", ""), arn=c["CertificateArn"])
        if not why:
            tags = s.c.acm.list_tags_for_certificate(CertificateArn=c["CertificateArn"]).get("Tags", [])
            why = "tag" if s.match.tags(tags) else None
        if why:
            out.append(Found("acm certificate", c["CertificateArn"],
                             f"{c.get('DomainName', '')} {c['CertificateArn']}", why,
                             arn=c["CertificateArn"]))


# ---------------------------------------------------------------------------- deleters
@deleter("cloudfront distribution")
def _del_distribution(s: Sweep, f: Found) -> None:
    cf = s.c.cloudfront
    got = cf.get_distribution_config(Id=f.id)
    config, etag = got["DistributionConfig"], got["ETag"]
    if config.get("Enabled"):
        config["Enabled"] = False  # AWS deletes only disabled distributions
        etag = cf.update_distribution(Id=f.id, IfMatch=etag, DistributionConfig=config)["ETag"]
    cf.delete_distribution(Id=f.id, IfMatch=etag)


@deleter("cloudfront oac")
def _del_oac(s: Sweep, f: Found) -> None:
    etag = s.c.cloudfront.get_origin_access_control(Id=f.id)["ETag"]
    s.c.cloudfront.delete_origin_access_control(Id=f.id, IfMatch=etag)


@deleter("wafv2 web acl")
def _del_web_acl(s: Sweep, f: Found) -> None:
    got = s.c.wafv2.get_web_acl(Name=f.extra["name"], Scope=f.extra["scope"], Id=f.id)
    s.c.wafv2.delete_web_acl(Name=f.extra["name"], Scope=f.extra["scope"], Id=f.id,
                             LockToken=got["LockToken"])


DELETERS.update({
    "autoscaling group": lambda s, f: s.c.autoscaling.delete_auto_scaling_group(
        AutoScalingGroupName=f.id, ForceDelete=True),
    "ec2 instance": lambda s, f: s.c.ec2.terminate_instances(InstanceIds=[f.id]),
    "ec2 launch template": lambda s, f: s.c.ec2.delete_launch_template(LaunchTemplateId=f.id),
    "elbv2 target group": lambda s, f: s.c.elbv2.delete_target_group(TargetGroupArn=f.id),
    "lambda function": lambda s, f: s.c.client("lambda").delete_function(FunctionName=f.id),
    "rds instance": lambda s, f: s.c.rds.delete_db_instance(
        DBInstanceIdentifier=f.id, SkipFinalSnapshot=True, DeleteAutomatedBackups=True),
    "rds subnet group": lambda s, f: s.c.rds.delete_db_subnet_group(DBSubnetGroupName=f.id),
    "rds cluster parameter group": lambda s, f: s.c.rds.delete_db_cluster_parameter_group(
        DBClusterParameterGroupName=f.id),
    "rds parameter group": lambda s, f: s.c.rds.delete_db_parameter_group(DBParameterGroupName=f.id),
    # A crashed run's secret must not wait out a recovery window (the name stays taken).
    "secret": lambda s, f: s.c.secretsmanager.delete_secret(SecretId=f.id,
                                                            ForceDeleteWithoutRecovery=True),
    "sns topic": lambda s, f: s.c.sns.delete_topic(TopicArn=f.id),
    "sqs queue": lambda s, f: s.c.client("sqs").delete_queue(QueueUrl=f.id),
    "ssm parameter": lambda s, f: s.c.ssm.delete_parameter(Name=f.id),
    "cloudwatch alarm": lambda s, f: s.c.cloudwatch.delete_alarms(AlarmNames=[f.id]),
    "log group": lambda s, f: s.c.logs.delete_log_group(logGroupName=f.id),
    "kms alias": lambda s, f: s.c.kms.delete_alias(AliasName=f.id),
    # The shortest window AWS allows; a key cannot be deleted at once.
    "kms key": lambda s, f: s.c.kms.schedule_key_deletion(KeyId=f.id, PendingWindowInDays=7),
    "ec2 flow log": lambda s, f: s.c.ec2.delete_flow_logs(FlowLogIds=[f.id]),
    "ec2 nat gateway": lambda s, f: s.c.ec2.delete_nat_gateway(NatGatewayId=f.id),
    "ec2 network interface": lambda s, f: s.c.ec2.delete_network_interface(NetworkInterfaceId=f.id),
    "ec2 subnet": lambda s, f: s.c.ec2.delete_subnet(SubnetId=f.id),
    "ec2 vpc": lambda s, f: s.c.ec2.delete_vpc(VpcId=f.id),
    "acm certificate": lambda s, f: s.c.acm.delete_certificate(CertificateArn=f.id),
})


@deleter("elbv2 load balancer")
def _del_lb(s: Sweep, f: Found) -> None:
    for listener in s.c.elbv2.describe_listeners(LoadBalancerArn=f.id)["Listeners"]:
        s.c.elbv2.delete_listener(ListenerArn=listener["ListenerArn"])
    s.c.elbv2.delete_load_balancer(LoadBalancerArn=f.id)


@deleter("rds cluster")
def _del_cluster(s: Sweep, f: Found) -> None:
    if f.extra.get("protected"):
        s.c.rds.modify_db_cluster(DBClusterIdentifier=f.id, DeletionProtection=False,
                                  ApplyImmediately=True)
    s.c.rds.delete_db_cluster(DBClusterIdentifier=f.id, SkipFinalSnapshot=True)


@deleter("iam instance profile")
def _del_profile(s: Sweep, f: Found) -> None:
    for role in f.extra.get("roles", []):
        s.c.iam.remove_role_from_instance_profile(InstanceProfileName=f.id, RoleName=role)
    s.c.iam.delete_instance_profile(InstanceProfileName=f.id)


@deleter("iam role")
def _del_role(s: Sweep, f: Found) -> None:
    iam = s.c.iam
    for p in _pages(iam, "list_attached_role_policies", "AttachedPolicies", RoleName=f.id):
        iam.detach_role_policy(RoleName=f.id, PolicyArn=p["PolicyArn"])
    for name in _pages(iam, "list_role_policies", "PolicyNames", RoleName=f.id):
        iam.delete_role_policy(RoleName=f.id, PolicyName=name)
    for p in _pages(iam, "list_instance_profiles_for_role", "InstanceProfiles", RoleName=f.id):
        iam.remove_role_from_instance_profile(InstanceProfileName=p["InstanceProfileName"],
                                              RoleName=f.id)
    iam.delete_role(RoleName=f.id)


@deleter("iam policy")
def _del_policy(s: Sweep, f: Found) -> None:
    iam = s.c.iam
    ents = iam.list_entities_for_policy(PolicyArn=f.id)
    for r in ents.get("PolicyRoles", []):
        iam.detach_role_policy(RoleName=r["RoleName"], PolicyArn=f.id)
    for u in ents.get("PolicyUsers", []):
        iam.detach_user_policy(UserName=u["UserName"], PolicyArn=f.id)
    for g in ents.get("PolicyGroups", []):
        iam.detach_group_policy(GroupName=g["GroupName"], PolicyArn=f.id)
    for v in iam.list_policy_versions(PolicyArn=f.id)["Versions"]:
        if not v["IsDefaultVersion"]:
            iam.delete_policy_version(PolicyArn=f.id, VersionId=v["VersionId"])
    iam.delete_policy(PolicyArn=f.id)


@deleter("ec2 elastic ip")
def _del_eip(s: Sweep, f: Found) -> None:
    if f.extra.get("association"):
        try:
            s.c.ec2.disassociate_address(AssociationId=f.extra["association"])
        except ClientError:
            pass  # already gone with its NAT gateway
    s.c.ec2.release_address(AllocationId=f.id)


@deleter("ec2 internet gateway")
def _del_igw(s: Sweep, f: Found) -> None:
    for vpc in f.extra.get("vpcs", []):
        s.c.ec2.detach_internet_gateway(InternetGatewayId=f.id, VpcId=vpc)
    f.extra["vpcs"] = []  # a repeated round must not detach again
    s.c.ec2.delete_internet_gateway(InternetGatewayId=f.id)


@deleter("ec2 route table")
def _del_route_table(s: Sweep, f: Found) -> None:
    for assoc in f.extra.get("associations", []):
        s.c.ec2.disassociate_route_table(AssociationId=assoc)
    f.extra["associations"] = []
    s.c.ec2.delete_route_table(RouteTableId=f.id)


@deleter("ec2 security group rules")
def _del_sg_rules(s: Sweep, f: Found) -> None:
    # Every group's rules go before any group: two groups that name each other cannot be
    # deleted in either order while their rules stand.
    if f.extra.get("ingress"):
        s.c.ec2.revoke_security_group_ingress(GroupId=f.id, IpPermissions=f.extra["ingress"])
        f.extra["ingress"] = []
    if f.extra.get("egress"):
        s.c.ec2.revoke_security_group_egress(GroupId=f.id, IpPermissions=f.extra["egress"])
        f.extra["egress"] = []


@deleter("ec2 security group")
def _del_sg(s: Sweep, f: Found) -> None:
    s.c.ec2.delete_security_group(GroupId=f.id)


@deleter("s3 bucket")
def _del_bucket(s: Sweep, f: Found) -> None:
    s3 = s.c.s3
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=f.id):
        objects = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                   for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if objects:
            s3.delete_objects(Bucket=f.id, Delete={"Objects": objects, "Quiet": True})
    s3.delete_bucket(Bucket=f.id)


assert set(DELETERS) == set(DELETE_ORDER), set(DELETE_ORDER) ^ set(DELETERS)


# ---------------------------------------------------------------------------- the command
def allowed_accounts(config_file: str | None) -> list[str]:
    if not config_file:
        raise SweepRefused("--target aws needs --stack-config FILE (or $STACK_CONFIG) whose "
                           "allowed_account_ids lists the accounts the sweeper may touch")
    try:
        data = read_config_file(config_file)
    except ConfigError as exc:
        raise SweepRefused(f"--stack-config: {exc}") from None
    ids = data.get("allowed_account_ids")
    if not ids:
        raise SweepRefused(f"--stack-config {config_file} has no allowed_account_ids: the "
                           "sweeper refuses to touch an account nobody allow-listed")
    return [str(i) for i in ids]


def clients_for(args: argparse.Namespace) -> AwsClients:
    if args.target == "sandbox":
        endpoint = args.endpoint
        if not endpoint:
            record = Path(args.stack_workdir) / args.suffix / "deployment.json"
            if record.is_file():
                endpoint = json.loads(record.read_text()).get("endpoint")
        if not endpoint:
            raise SweepRefused(f"--target sandbox needs --endpoint URL (no endpoint recorded in "
                               f"{Path(args.stack_workdir) / args.suffix})")
        problem = loopback_problem(endpoint)
        if problem:
            raise SweepRefused(f"--endpoint {endpoint}: {problem}")
        return AwsClients(args.region, endpoint=endpoint)
    if args.endpoint:
        raise SweepRefused("--endpoint only applies to --target sandbox")
    allowed = allowed_accounts(args.stack_config or os.environ.get("STACK_CONFIG"))
    clients = AwsClients(args.region)
    account = clients.account_id()
    if account not in allowed:
        raise SweepRefused(f"refusing to sweep account {account}: not in allowed_account_ids "
                           f"{allowed} of the stack config. Use credentials for an allow-listed "
                           "test account")
    return clients


def main(argv: list[str] | None = None, out=sys.stdout) -> int:
    p = argparse.ArgumentParser(prog="python -m harness.sweep", description=__doc__.split("\n\n")[0])
    p.add_argument("--suffix", required=True, help="the run's environment suffix")
    p.add_argument("--target", choices=("sandbox", "aws"), default="sandbox")
    p.add_argument("--endpoint", help="sandbox: the moto server (loopback only); default: the "
                   "one recorded in the suffix's workdir")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--stack-config", help="aws: the stack config whose allowed_account_ids "
                   "this account must be in (default $STACK_CONFIG)")
    p.add_argument("--stack-workdir", default=".stack-work")
    p.add_argument("--delete", action="store_true", help="delete what is found (default: list only)")
    args = p.parse_args(argv)

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        sweep = Sweep(clients_for(args), args.suffix, log=say)
    except SweepRefused as exc:
        say(f"sweep refused: {exc}")
        return 2
    found = sweep.find()
    say(f"{len(found)} resource(s) carry suffix {args.suffix} ({args.target}):")
    for f in sorted(found, key=lambda f: DELETE_ORDER.index(f.kind) if f.kind in DELETERS else 99):
        say(f"  {f.line()}")
    for u in sweep.unchecked:
        say(f"  unchecked {u}")
    if not args.delete:
        say("dry run: nothing deleted; add --delete to delete these")
        return 0
    errors = sweep.delete(found)
    left = sweep.find()
    for e in errors:
        say(f"  error {e}")
    if left:
        say(f"{len(left)} resource(s) still carry suffix {args.suffix}:")
        for f in left:
            say(f"  {f.line()}")
        return 1
    say(f"deleted {len(found)} resource(s); nothing carries suffix {args.suffix} any more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
