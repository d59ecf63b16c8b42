"""S3: the static-assets bucket (read by CloudFront only) and the logs bucket (90 days).

Encryption: static assets use SSE-KMS with their own key. The logs bucket uses SSE-S3
because ALB access-log delivery and CloudFront standard logging cannot write to SSE-KMS
buckets. Both are versioned, private, TLS-only and force-destroyable.
"""
from __future__ import annotations


from dataclasses import dataclass
from pathlib import Path
from typing import Any

from constructs import Construct
from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration, S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration, S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration)
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls, S3BucketOwnershipControlsRule)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA)
from cdktf_cdktf_provider_aws.s3_object import S3Object
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA, S3BucketVersioningVersioningConfiguration)

from stack.context import StackContext, allow, policy

LOG_RETENTION_DAYS = 90
STATIC_SOURCE = Path(__file__).resolve().parent.parent / "app" / "static"
CONTENT_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".js": "text/javascript",
                 ".png": "image/png", ".ico": "image/x-icon", ".html": "text/html"}
ALB_LOG_PREFIX = "alb"
CLOUDFRONT_LOG_PREFIX = "cloudfront/"
S3_ACCESS_LOG_PREFIX = "s3-static/"
# ELB's log-delivery account in us-east-1 (the only region config allows).
ELB_ACCOUNT_US_EAST_1 = "127311923021"


# {"AWS": "*"} is AWS's equivalent of "*"; moto 5.2.1 crashes (HTTP 500) on a string
# principal when it checks a bucket's policy for log delivery.
EVERYONE = {"AWS": "*"}


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    return {"Sid": "DenyPlaintext", "Effect": "Deny", "Principal": EVERYONE, "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def deny_old_tls_statement(bucket_arn: str) -> dict[str, Any]:
    return {"Sid": "DenyTlsBelow12", "Effect": "Deny", "Principal": EVERYONE, "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}}


@dataclass(frozen=True)
class StorageProps:
    ctx: StackContext
    static_key_arn: str
    upload_static_assets: bool = True


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, props: StorageProps):
        super().__init__(scope, id)
        ctx = props.ctx
        self.logs, logs_pab = self._bucket("logs", ctx.names.logs_bucket, kms_key_arn=None,
                                           # CloudFront standard logging writes with ACLs.
                                           ownership="BucketOwnerPreferred")
        self.static, self.static_public_access_block = self._bucket(
            "static", ctx.names.static_bucket, kms_key_arn=props.static_key_arn,
            ownership="BucketOwnerEnforced")

        S3BucketLifecycleConfiguration(
            self, "logs-lifecycle", bucket=self.logs.id, rule=[S3BucketLifecycleConfigurationRule(
                id="expire-after-90-days", status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=LOG_RETENTION_DAYS)],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                        noncurrent_days=LOG_RETENTION_DAYS)],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                        days_after_initiation=7)])])

        logs_arn = self.logs.arn
        self.logs_policy = S3BucketPolicy(self, "logs-policy", bucket=self.logs.id, policy=policy(
            tls_only_statement(logs_arn),
            deny_old_tls_statement(logs_arn),
            allow("AlbAccessLogs", ["s3:PutObject"],
                  [f"{logs_arn}/{ALB_LOG_PREFIX}/AWSLogs/{ctx.account_id}/*"],
                  Principal={"AWS": f"arn:{ctx.partition}:iam::{ELB_ACCOUNT_US_EAST_1}:root"}),
            # moto insists on exactly one string <bucket>/<prefix>* here; real S3 agrees.
            allow("S3ServerAccessLogs", ["s3:PutObject"], f"{logs_arn}/{S3_ACCESS_LOG_PREFIX}*",
                  Principal={"Service": "logging.s3.amazonaws.com"},
                  Condition={"StringEquals": {"aws:SourceAccount": ctx.account_id}}),
        ), depends_on=[logs_pab])
        # The page the instances serve references these under CloudFront's /static/ path.
        # Not in the sandbox: moto 5.2.1 treats any conditional Deny (here: the TLS-only
        # statement) as matching, so every object call on this bucket answers 403 there.
        static_files = sorted(p for p in STATIC_SOURCE.rglob("*") if p.is_file())
        for path in static_files if props.upload_static_assets else []:
            key = "static/" + path.relative_to(STATIC_SOURCE).as_posix()
            # An asset, so the JSON names a path relative to itself, not this checkout.
            asset = TerraformAsset(self, f"file-{key}", path=str(path), type=AssetType.FILE)
            S3Object(self, f"asset-{key}", bucket=self.static.id, key=key, source=asset.path,
                     source_hash=asset.asset_hash,
                     content_type=CONTENT_TYPES.get(path.suffix, "application/octet-stream"),
                     cache_control="public, max-age=86400")
        S3BucketLoggingA(self, "static-access-logs", bucket=self.static.id,
                         target_bucket=self.logs.id, target_prefix=S3_ACCESS_LOG_PREFIX,
                         depends_on=[self.logs_policy])

    def _bucket(self, bid: str, name: str, *, kms_key_arn: str | None,
                ownership: str) -> tuple[S3Bucket, S3BucketPublicAccessBlock]:
        bucket = S3Bucket(self, bid, bucket=name, force_destroy=True)
        S3BucketOwnershipControls(self, f"{bid}-ownership", bucket=bucket.id,
                                  rule=S3BucketOwnershipControlsRule(object_ownership=ownership))
        pab = S3BucketPublicAccessBlock(self, f"{bid}-public-access-block", bucket=bucket.id,
                                        block_public_acls=True, block_public_policy=True,
                                        ignore_public_acls=True, restrict_public_buckets=True)
        S3BucketVersioningA(self, f"{bid}-versioning", bucket=bucket.id,
                            versioning_configuration=S3BucketVersioningVersioningConfiguration(
                                status="Enabled"))
        default = (S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                       sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn)
                   if kms_key_arn else
                   S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                       sse_algorithm="AES256"))
        S3BucketServerSideEncryptionConfigurationA(
            self, f"{bid}-encryption", bucket=bucket.id,
            rule=[S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=default,
                bucket_key_enabled=bool(kms_key_arn))])
        return bucket, pab
