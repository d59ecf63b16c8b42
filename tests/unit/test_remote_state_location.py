"""--stack-state: only s3://bucket/prefix; one key per suffix, its own lock file, encrypted;
the configuration bundle beside the state holds neither state nor plans."""
import pytest

from harness.remote_state import RemoteStateError, StateLocation, bundled

pytestmark = pytest.mark.unit


def test_backend_one_key_per_suffix_with_lock_file_and_encryption():
    location = StateLocation.parse("s3://ci-state-bucket/platform/nightly/")
    assert location.url == "s3://ci-state-bucket/platform/nightly"
    assert location.backend("t1234567", "us-east-1") == {"s3": {
        "bucket": "ci-state-bucket", "key": "platform/nightly/t1234567/terraform.tfstate",
        "region": "us-east-1", "encrypt": True, "use_lockfile": True}}
    assert location.key("t1234567", "deployment.json") == "platform/nightly/t1234567/deployment.json"


def test_no_prefix_keys_start_with_the_suffix():
    location = StateLocation.parse("s3://ci-state-bucket")
    assert location.key("t1", "terraform.tfstate") == "t1/terraform.tfstate"
    assert location.suffixes_prefix() == ""


@pytest.mark.parametrize("url, rule", [
    ("gs://bucket/prefix", "only s3://bucket/prefix"),
    ("/tmp/state", "only s3://bucket/prefix"),
    ("s3://Bucket_Upper/p", "not an S3 bucket name"),
    ("s3://ab/p", "not an S3 bucket name"),
    ("s3://bucket/p?versionId=1", "no query"),
    ("s3://bucket/../p", "prefix segment"),
    ("s3://bucket/p q", "prefix segment"),
])
def test_refused_with_the_rule(url, rule):
    with pytest.raises(RemoteStateError, match="--stack-state") as caught:
        StateLocation.parse(url)
    assert rule in str(caught.value)


def test_the_bundle_holds_the_json_and_its_assets_not_state_plans_or_cli_config(tmp_path):
    for name in ("cdk.tf.json", ".terraform.lock.hcl", "terraform.tfstate",
                 "terraform.tfstate.backup", "tfplan", "idempotency.tfplan", "terraform.rc"):
        (tmp_path / name).write_text("x")
    (tmp_path / "assets").mkdir()
    (tmp_path / ".terraform").mkdir()
    assert [p.name for p in bundled(tmp_path)] == [".terraform.lock.hcl", "assets", "cdk.tf.json"]
