"""The AWS provider: default tags everywhere, and sandbox endpoints only in sandbox mode."""
from __future__ import annotations

from typing import Any

from cdktf import LocalBackend, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints

from stack.config import StackConfig

# Every service the stack calls. In sandbox mode each is pointed at the moto server.
SANDBOX_SERVICES = (
    "acm", "autoscaling", "cloudfront", "cloudwatch", "cloudwatchlogs", "ec2", "elbv2", "iam",
    "kms", "lambda_", "rds", "route53", "s3", "secretsmanager", "sns", "ssm", "sts", "wafv2",
)


def configure_providers(stack: TerraformStack, cfg: StackConfig) -> AwsProvider:
    # A relative path keeps the JSON free of this machine's absolute paths.
    LocalBackend(stack, path="terraform.tfstate")
    kwargs: dict[str, Any] = {}
    if cfg.allowed_account_ids:
        # Terraform itself then refuses any other account: production cannot be touched.
        kwargs["allowed_account_ids"] = list(cfg.allowed_account_ids)
    if cfg.sandbox is not None:
        # Credentials come from the environment of the plugin's terraform calls, never here.
        kwargs.update(
            endpoints=[AwsProviderEndpoints(**{svc: cfg.sandbox.endpoint for svc in SANDBOX_SERVICES})],
            skip_credentials_validation=True,
            skip_metadata_api_check="true",
            skip_region_validation=True,
            s3_use_path_style=True,
        )
    return AwsProvider(stack, "aws", region=cfg.region,
                       default_tags=[AwsProviderDefaultTags(tags=cfg.tags)], **kwargs)
