"""S3: both buckets encrypted, versioned, private and TLS-only; logs expire after 90 days."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

BUCKETS = ("static_bucket_name", "logs_bucket_name")


def test_logs_bucket_expires_objects_after_90_days(stack, clients):
    """The logs bucket's lifecycle rule (whole bucket, enabled) expires current objects and
    noncurrent versions after 90 days."""
    rules = clients.s3.get_bucket_lifecycle_configuration(
        Bucket=stack.outputs.logs_bucket_name)["Rules"]
    enabled = [r for r in rules if r["Status"] == "Enabled"]
    assert enabled
    whole_bucket = [r for r in enabled
                    if r.get("Filter", {}).get("Prefix", "") == "" and "And" not in r.get("Filter", {})]
    assert any(r.get("Expiration", {}).get("Days") == 90 for r in whole_bucket), rules
    assert any(r.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays") == 90
               for r in whole_bucket), rules


@pytest.mark.control("3.5.1")
@pytest.mark.parametrize("output", BUCKETS)
def test_bucket_is_encrypted_by_default(stack, clients, output):
    """Default encryption is on: SSE-KMS with the stack's key for static assets, SSE-S3 for
    logs (ALB and CloudFront log delivery cannot write to SSE-KMS buckets)."""
    bucket = getattr(stack.outputs, output)
    rules = clients.s3.get_bucket_encryption(Bucket=bucket)[
        "ServerSideEncryptionConfiguration"]["Rules"]
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    if output == "static_bucket_name":
        assert default["SSEAlgorithm"] == "aws:kms"
        key = default["KMSMasterKeyID"]
        meta = clients.kms.describe_key(KeyId=key)["KeyMetadata"]
        assert meta["KeyState"] == "Enabled" and meta["KeyManager"] == "CUSTOMER"
    else:
        assert default["SSEAlgorithm"] in ("AES256", "aws:kms")


@pytest.mark.control("10.3.2")
@pytest.mark.parametrize("output", BUCKETS)
def test_bucket_is_versioned(stack, clients, output):
    """Versioning is Enabled, so an overwrite or delete keeps the previous object."""
    bucket = getattr(stack.outputs, output)
    assert clients.s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"


@pytest.mark.parametrize("output", BUCKETS)
def test_bucket_blocks_all_public_access(stack, clients, output):
    """All four public access block settings are on."""
    config = clients.s3.get_public_access_block(Bucket=getattr(stack.outputs, output))[
        "PublicAccessBlockConfiguration"]
    assert config == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                      "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


@pytest.mark.control("4.2.1")
@pytest.mark.parametrize("output", BUCKETS)
def test_bucket_policy_denies_plaintext(stack, clients, output):
    """The bucket policy denies every S3 action on the bucket and its objects when
    aws:SecureTransport is false."""
    bucket = getattr(stack.outputs, output)
    policy = json.loads(clients.s3.get_bucket_policy(Bucket=bucket)["Policy"])
    arn = f"arn:aws:s3:::{bucket}"
    denies = [s for s in policy["Statement"] if s["Effect"] == "Deny"
              and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") in ("false", False)]
    assert denies, policy
    statement = denies[0]
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    assert "s3:*" in actions
    assert {arn, f"{arn}/*"} <= set(resources)
    assert statement["Principal"] in ("*", {"AWS": "*"})
