import json

import pytest

pytestmark = pytest.mark.unit


def _by_bucket(doc, rtype):
    return {r["bucket"].split(".")[1]: r for r in doc.list(rtype)}


@pytest.mark.control("3.5.1", "10.3.2")
def test_both_buckets_private_versioned_encrypted_and_destroyable(prod):
    buckets = prod.all("aws_s3_bucket")
    assert {b["bucket"] for b in buckets.values()} == {"access-logs-prod-unit01", "static-assets-prod-unit01"}
    assert all(b["force_destroy"] for b in buckets.values())
    for rtype in ("aws_s3_bucket_public_access_block", "aws_s3_bucket_versioning",
                  "aws_s3_bucket_server_side_encryption_configuration"):
        assert set(_by_bucket(prod, rtype)) == set(buckets), rtype
    for pab in prod.list("aws_s3_bucket_public_access_block"):
        assert all(pab[k] for k in ("block_public_acls", "block_public_policy",
                                    "ignore_public_acls", "restrict_public_buckets"))
    for v in prod.list("aws_s3_bucket_versioning"):
        assert v["versioning_configuration"]["status"] == "Enabled"


@pytest.mark.control("3.5.1")
def test_static_is_sse_kms_and_logs_sse_s3_for_log_delivery(prod):
    enc = {name: r["rule"][0]["apply_server_side_encryption_by_default"]
           for name, r in _by_bucket(prod, "aws_s3_bucket_server_side_encryption_configuration").items()}
    static = next(v for k, v in enc.items() if "static" in k)
    logs = next(v for k, v in enc.items() if "logs" in k)
    assert static["sse_algorithm"] == "aws:kms" and "aws_kms_key.keys_kms-static" in static["kms_master_key_id"]
    assert logs["sse_algorithm"] == "AES256"


@pytest.mark.control("4.2.1")
def test_every_bucket_policy_denies_plaintext_and_old_tls(prod):
    policies = prod.list("aws_s3_bucket_policy")
    assert len(policies) == 2
    for p in policies:
        sids = {st["Sid"]: st for st in json.loads(p["policy"])["Statement"]}
        assert sids["DenyPlaintext"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert sids["DenyTlsBelow12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


def test_logs_expire_after_90_days_including_noncurrent_versions(prod):
    (rule,) = prod.one("aws_s3_bucket_lifecycle_configuration")["rule"]
    assert rule["status"] == "Enabled"
    assert rule["expiration"][0]["days"] == 90
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == 90


@pytest.mark.control("10.2.1")
def test_static_bucket_access_is_logged_to_the_logs_bucket(prod):
    logging = prod.one("aws_s3_bucket_logging")
    assert "storage_static" in logging["bucket"] and "storage_logs" in logging["target_bucket"]


def test_static_assets_the_page_references_are_uploaded_under_static(prod):
    objects = {o["key"]: o for o in prod.list("aws_s3_object")}
    assert {"static/css/site.css", "static/img/logo.svg"} <= set(objects)
    assert objects["static/css/site.css"]["content_type"] == "text/css"
    for o in objects.values():
        assert "storage_static" in o["bucket"] and o["source"].startswith("assets/")
        assert (prod.path.parent / o["source"]).is_file()


def test_sandbox_omits_the_uploads_moto_would_refuse(sandbox):
    """moto answers 403 to every object call on a bucket with a conditional Deny."""
    assert "aws_s3_object" not in sandbox.resource
