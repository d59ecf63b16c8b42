"""Secrets Manager: the database credentials (rotated every 30 days) and the origin header.

No secret value is in the synthesized JSON. The master password comes from an ephemeral
``aws_secretsmanager_random_password`` and reaches Aurora and the secret only through
write-only arguments (Terraform 1.11, provider 5.100.0), so it is in neither the JSON nor
the state. The origin-verify value is generated the same way, but CloudFront and the ALB
rule need it as a plain argument, so it is read back and lives in the (encrypted-at-rest,
local) state: see README, "Secrets and state".
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct
from cdktf import AssetType, ITerraformDependable, TerraformAsset, TerraformStack
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_secret_version import (
    DataAwsSecretsmanagerSecretVersion)
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction, LambdaFunctionEnvironment, LambdaFunctionVpcConfig)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_rotation import (
    SecretsmanagerSecretRotation, SecretsmanagerSecretRotationRotationRules)
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion

from stack.context import DB_PORT, StackContext
from stack.synthesis.lambda_package import build_package, lambda_builder

LAMBDA_RUNTIME = "python3.12"
DB_MASTER_USERNAME = "dbadmin"
PASSWORD_LENGTH = 32


def ephemeral_password(stack: TerraformStack, name: str) -> str:
    """Declare an ephemeral random password and return a reference to its value.

    cdktf 0.21 has no binding for ephemeral resources, so the block is added as a raw
    override; Terraform opens it per run and never stores it.
    """
    stack.add_override(f"ephemeral.aws_secretsmanager_random_password.{name}", {
        "password_length": PASSWORD_LENGTH,
        # Letters and digits only: safe in MySQL, JSON, URLs, shells and HTTP headers.
        "exclude_punctuation": True,
    })
    return f"${{ephemeral.aws_secretsmanager_random_password.{name}.random_password}}"


@dataclass(frozen=True)
class SecretsProps:
    ctx: StackContext
    secrets_key_arn: str


class Secrets(Construct):
    """The secrets themselves, before the database exists (it needs the password)."""

    def __init__(self, scope: Construct, id: str, *, props: SecretsProps):
        super().__init__(scope, id)
        ctx, stack = props.ctx, TerraformStack.of(self)
        self.db = SecretsmanagerSecret(
            self, "db", name=ctx.names.db_secret, kms_key_id=props.secrets_key_arn,
            description="Aurora MySQL master credentials, rotated by the rotation Lambda",
            recovery_window_in_days=0)
        self.db_master_password = ephemeral_password(stack, "db_master")

        origin = SecretsmanagerSecret(
            self, "origin-verify", name=ctx.names.origin_secret,
            kms_key_id=props.secrets_key_arn, recovery_window_in_days=0,
            description="Value of the header CloudFront adds and the ALB requires")
        origin_version = SecretsmanagerSecretVersion(
            self, "origin-verify-value", secret_id=origin.id,
            secret_string_wo=ephemeral_password(stack, "origin_verify"),
            secret_string_wo_version=1)
        self.origin_header_value = DataAwsSecretsmanagerSecretVersion(
            self, "origin-verify-read", secret_id=origin.id,
            depends_on=[origin_version]).secret_string


@dataclass(frozen=True)
class RotationProps:
    ctx: StackContext
    secret: SecretsmanagerSecret
    master_password: str          # "${ephemeral....}" reference
    db_cluster: RdsCluster
    role_arn: str
    subnet_ids: list[str]
    security_group_id: str
    log_group: ITerraformDependable


class Rotation(Construct):
    """The secret's first version, the rotation Lambda, and the 30-day schedule."""

    def __init__(self, scope: Construct, id: str, *, props: RotationProps):
        super().__init__(scope, id)
        ctx = props.ctx
        # Written as one Terraform expression: cdktf would quote the ephemeral reference
        # as a literal inside Fn.jsonencode, since it has no token for ephemeral values.
        cluster = props.db_cluster.fqn
        secret_json = (
            '${jsonencode({engine = "mysql", host = %s.endpoint, port = %d, username = "%s", '
            'password = %s, dbClusterIdentifier = %s.cluster_identifier})}'
            % (cluster, DB_PORT, DB_MASTER_USERNAME, props.master_password[2:-1], cluster))
        self.version = SecretsmanagerSecretVersion(
            self, "db-initial", secret_id=props.secret.id, secret_string_wo_version=1,
            secret_string_wo=secret_json)

        builder = lambda_builder()
        package_dir = build_package()
        asset = TerraformAsset(self, "code", path=str(package_dir), type=AssetType.ARCHIVE)
        self.function = LambdaFunction(
            self, "function", function_name=ctx.names.rotation_lambda,
            description="Rotates the Aurora MySQL credentials over verified TLS",
            role=props.role_arn, runtime=LAMBDA_RUNTIME, handler=builder.HANDLER,
            filename=asset.path, source_code_hash=asset.asset_hash, timeout=60, memory_size=256,
            vpc_config=LambdaFunctionVpcConfig(subnet_ids=props.subnet_ids,
                                               security_group_ids=[props.security_group_id]),
            environment=LambdaFunctionEnvironment(variables={
                "SECRETS_MANAGER_ENDPOINT": f"https://secretsmanager.{ctx.region}.amazonaws.com"}),
            depends_on=[props.log_group])
        permission = LambdaPermission(
            self, "allow-secretsmanager", function_name=self.function.function_name,
            action="lambda:InvokeFunction", principal="secretsmanager.amazonaws.com",
            source_arn=props.secret.arn, source_account=ctx.account_id)
        SecretsmanagerSecretRotation(
            self, "schedule", secret_id=props.secret.id,
            rotation_lambda_arn=self.function.arn,
            rotation_rules=SecretsmanagerSecretRotationRotationRules(
                automatically_after_days=ctx.cfg.rotation_days),
            depends_on=[permission, self.version])
