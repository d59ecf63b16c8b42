"""KMS keys, security groups and IAM roles: who may talk to whom, and with what.

No IAM statement has a ``*`` action. ``*`` resources appear only for APIs that have no
resource-level permissions, each marked where it is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from constructs import Construct
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule

from stack.context import APP_PORT, DB_PORT, StackContext, allow, policy
from stack.managed_policies import SSM_CORE_POLICY

KEY_DELETION_WINDOW_DAYS = 7
# Key administration, spelled out: a key policy with kms:* would be a wildcard action.
KEY_ADMIN_ACTIONS = [
    "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:DescribeKey", "kms:EnableKey",
    "kms:DisableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus", "kms:PutKeyPolicy", "kms:ListResourceTags", "kms:ListAliases",
    "kms:ListGrants", "kms:RevokeGrant", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:UpdateKeyDescription",
]
KEY_USE_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey",
]
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"


@dataclass(frozen=True)
class KeySpec:
    purpose: str
    description: str
    via_services: tuple[str, ...] = ()     # AWS services that use the key on the account's behalf
    extra_statements: tuple[dict[str, Any], ...] = ()


def kms_key(scope: Construct, ctx: StackContext, spec: KeySpec) -> KmsKey:
    root = {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"}
    statements = [allow("KeyAdministration", KEY_ADMIN_ACTIONS, "*", Principal=root)]
    if spec.via_services:
        statements.append(allow(
            "UseThroughService", KEY_USE_ACTIONS + ["kms:CreateGrant"], "*", Principal=root,
            Condition={"StringEquals": {
                "kms:ViaService": [f"{s}.{ctx.region}.amazonaws.com" for s in spec.via_services],
                "kms:CallerAccount": ctx.account_id}}))
    statements.extend(spec.extra_statements)
    # In a key policy "Resource": "*" means this key itself.
    key = KmsKey(scope, f"kms-{spec.purpose}", description=spec.description,
                 enable_key_rotation=True, deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
                 policy=policy(*statements), tags=ctx.name_tag(f"kms-{spec.purpose}"))
    KmsAlias(scope, f"kms-{spec.purpose}-alias", name=ctx.names.kms_alias(spec.purpose),
             target_key_id=key.key_id)
    return key


class Keys(Construct):
    """One key per data domain, so a key policy names only the services of that domain."""

    def __init__(self, scope: Construct, id: str, *, ctx: StackContext):
        super().__init__(scope, id)
        self.data = kms_key(self, ctx, KeySpec(
            "data", "Aurora storage and Performance Insights", via_services=("rds",)))
        self.secrets = kms_key(self, ctx, KeySpec(
            "secrets", "Secrets Manager: database credentials, origin header",
            via_services=("secretsmanager",)))
        self.static = kms_key(self, ctx, KeySpec(
            "static", "S3 static assets", via_services=("s3",), extra_statements=(
                # CloudFront reads through OAC; the bucket policy pins the one distribution,
                # and the key cannot name it without a dependency cycle.
                allow("CloudFrontOacDecrypt", ["kms:Decrypt"], "*",
                      Principal={"Service": "cloudfront.amazonaws.com"},
                      Condition={"StringEquals": {"AWS:SourceAccount": ctx.account_id}}),)))
        self.logs = kms_key(self, ctx, KeySpec(
            "logs", "CloudWatch Logs and SNS alerts", via_services=("sns",), extra_statements=(
                allow("CloudWatchLogs", KEY_USE_ACTIONS, "*",
                      Principal={"Service": f"logs.{ctx.region}.amazonaws.com"},
                      Condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                             ctx.arn("logs", "log-group:*")}}),
                allow("CloudWatchAlarmsToEncryptedTopic", ["kms:Decrypt", "kms:GenerateDataKey"],
                      "*", Principal={"Service": "cloudwatch.amazonaws.com"},
                      Condition={"StringEquals": {"AWS:SourceAccount": ctx.account_id}}),)))


@dataclass(frozen=True)
class SecurityGroupsProps:
    ctx: StackContext
    vpc_id: str


class SecurityGroups(Construct):
    """CloudFront -> ALB :443 -> app :8080 -> Aurora :3306 <- rotation Lambda. Nothing else."""

    def __init__(self, scope: Construct, id: str, *, props: SecurityGroupsProps):
        super().__init__(scope, id)
        ctx = props.ctx
        cloudfront = DataAwsEc2ManagedPrefixList(self, "cloudfront-origin-facing",
                                                 name=CLOUDFRONT_PREFIX_LIST)

        def group(role: str, description: str) -> SecurityGroup:
            return SecurityGroup(self, role, name=ctx.names.sg(role), description=description,
                                 vpc_id=props.vpc_id, tags={"Name": ctx.names.sg(role)})

        self.alb = group("alb", "ALB: HTTPS from CloudFront origin-facing addresses only")
        self.app = group("app", "Application instances: from the ALB only")
        self.db = group("db", "Aurora: MySQL from the application and the rotation Lambda")
        self.rotation = group("rotation", "Rotation Lambda: to Aurora and AWS APIs")

        # An unset (None) source or destination is left out of the JSON, as if not passed.
        def ingress(rid: str, sg: SecurityGroup, port: int, description: str, *,
                    prefix_list_id: str | None = None,
                    referenced_security_group_id: str | None = None) -> None:
            VpcSecurityGroupIngressRule(self, rid, security_group_id=sg.id, ip_protocol="tcp",
                                        from_port=port, to_port=port, description=description,
                                        prefix_list_id=prefix_list_id,
                                        referenced_security_group_id=referenced_security_group_id)

        def egress(rid: str, sg: SecurityGroup, port: int, description: str, *,
                   referenced_security_group_id: str | None = None,
                   cidr_ipv4: str | None = None) -> None:
            VpcSecurityGroupEgressRule(self, rid, security_group_id=sg.id, ip_protocol="tcp",
                                       from_port=port, to_port=port, description=description,
                                       referenced_security_group_id=referenced_security_group_id,
                                       cidr_ipv4=cidr_ipv4)

        # One prefix-list reference counts as its ~55 entries against the 60-rule quota,
        # so CloudFront can reach 443 only; port 80 on the ALB merely redirects anyway.
        ingress("alb-in-443", self.alb, 443, "HTTPS from CloudFront",
                prefix_list_id=cloudfront.id)
        egress("alb-out-app", self.alb, APP_PORT, "to application instances",
               referenced_security_group_id=self.app.id)
        ingress("app-in-alb", self.app, APP_PORT, "from the ALB",
                referenced_security_group_id=self.alb.id)
        egress("app-out-db", self.app, DB_PORT, "to Aurora",
               referenced_security_group_id=self.db.id)
        egress("app-out-https", self.app, 443,
               "AWS APIs (Secrets Manager, CloudWatch, SSM) and packages, through NAT",
               cidr_ipv4="0.0.0.0/0")
        ingress("db-in-app", self.db, DB_PORT, "from the application",
                referenced_security_group_id=self.app.id)
        ingress("db-in-rotation", self.db, DB_PORT, "from the rotation Lambda",
                referenced_security_group_id=self.rotation.id)
        egress("rotation-out-db", self.rotation, DB_PORT, "to Aurora",
               referenced_security_group_id=self.db.id)
        egress("rotation-out-https", self.rotation, 443, "Secrets Manager API, through NAT",
               cidr_ipv4="0.0.0.0/0")


def assume_role_policy(service: str) -> str:
    return policy({"Effect": "Allow", "Principal": {"Service": service},
                   "Action": ["sts:AssumeRole"]})


@dataclass(frozen=True)
class AppRoleProps:
    ctx: StackContext
    db_secret_arn: str
    secrets_key_arn: str
    app_log_group_arn: str


class AppRole(Construct):
    """The instances' identity: read one secret, write their logs and metrics, SSM."""

    def __init__(self, scope: Construct, id: str, *, props: AppRoleProps):
        super().__init__(scope, id)
        ctx = props.ctx
        self.role = IamRole(self, "role", name=ctx.names.app_role,
                            assume_role_policy=assume_role_policy("ec2.amazonaws.com"))
        IamRolePolicy(self, "policy", name="app-runtime", role=self.role.id, policy=policy(
            allow("ReadDbSecret", ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                  [props.db_secret_arn]),
            allow("DecryptDbSecret", ["kms:Decrypt"], [props.secrets_key_arn],
                  Condition={"StringEquals": {
                      "kms:ViaService": f"secretsmanager.{ctx.region}.amazonaws.com"}}),
            allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents",
                                   "logs:DescribeLogStreams"],
                  [props.app_log_group_arn, f"{props.app_log_group_arn}:log-stream:*"]),
            # cloudwatch:PutMetricData has no resource-level permission; the namespace
            # condition confines it to the application's own metrics.
            allow("PutOwnMetrics", ["cloudwatch:PutMetricData"], "*",
                  Condition={"StringEquals": {"cloudwatch:namespace": ctx.names.metrics_namespace}}),
        ))
        IamRolePolicyAttachment(self, "ssm-core", role=self.role.name,
                                policy_arn=SSM_CORE_POLICY.format(partition=ctx.partition))
        self.profile = IamInstanceProfile(self, "profile", name=ctx.names.instance_profile,
                                          role=self.role.name)


@dataclass(frozen=True)
class RotationRoleProps:
    ctx: StackContext
    db_secret_arn: str
    secrets_key_arn: str
    rotation_log_group_arn: str


class RotationRole(Construct):
    """The rotation Lambda's identity: rotate its one secret, attach to the VPC, log."""

    def __init__(self, scope: Construct, id: str, *, props: RotationRoleProps):
        super().__init__(scope, id)
        ctx = props.ctx
        self.role = IamRole(self, "role", name=ctx.names.rotation_role,
                            assume_role_policy=assume_role_policy("lambda.amazonaws.com"))
        IamRolePolicy(self, "policy", name="rotate-db-secret", role=self.role.id, policy=policy(
            allow("RotateOneSecret", ["secretsmanager:DescribeSecret",
                                      "secretsmanager:GetSecretValue",
                                      "secretsmanager:PutSecretValue",
                                      "secretsmanager:UpdateSecretVersionStage"],
                  [props.db_secret_arn]),
            # GetRandomPassword acts on no resource, so it cannot be scoped.
            allow("GeneratePassword", ["secretsmanager:GetRandomPassword"], "*"),
            allow("UseSecretsKey", ["kms:Decrypt", "kms:GenerateDataKey"],
                  [props.secrets_key_arn],
                  Condition={"StringEquals": {
                      "kms:ViaService": f"secretsmanager.{ctx.region}.amazonaws.com"}}),
            # Lambda creates and removes the function's VPC network interfaces before they
            # exist; these EC2 calls take no resource-level scoping (AWSLambdaVPCAccessExecutionRole).
            allow("VpcNetworkInterfaces", ["ec2:CreateNetworkInterface",
                                           "ec2:DescribeNetworkInterfaces",
                                           "ec2:DeleteNetworkInterface",
                                           "ec2:AssignPrivateIpAddresses",
                                           "ec2:UnassignPrivateIpAddresses"], "*"),
            allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
                  [props.rotation_log_group_arn, f"{props.rotation_log_group_arn}:log-stream:*"]),
        ))


@dataclass(frozen=True)
class FlowLogsRoleProps:
    ctx: StackContext
    flow_log_group_arn: str


class FlowLogsRole(Construct):
    def __init__(self, scope: Construct, id: str, *, props: FlowLogsRoleProps):
        super().__init__(scope, id)
        self.role = IamRole(self, "role", name=props.ctx.names.flow_logs_role,
                            assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com"))
        arn = props.flow_log_group_arn
        IamRolePolicy(self, "policy", name="deliver-flow-logs", role=self.role.id, policy=policy(
            allow("DeliverToOneGroup", ["logs:CreateLogStream", "logs:PutLogEvents",
                                        "logs:DescribeLogStreams"],
                  [arn, f"{arn}:log-stream:*"]),
            allow("FindTheGroup", ["logs:DescribeLogGroups"],
                  [props.ctx.arn("logs", "log-group:*")]),
        ))
