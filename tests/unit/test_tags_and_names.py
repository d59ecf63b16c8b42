"""Every resource tagged and named <type>-<environment>-<suffix>; sandbox settings only in sandbox."""
import pytest

pytestmark = pytest.mark.unit

TAGS = {"Environment": "prod", "Application": "fintxn", "CostCenter": "CC-1001"}
NAME_KEYS = ("name", "bucket", "identifier", "cluster_identifier", "function_name",
             "alarm_name", "scheduled_action_name")
# Names AWS fixes, or that are not ours to choose.
FIXED_NAMES = {"app-runtime", "rotate-db-secret", "deliver-flow-logs"}


@pytest.mark.control("12.5.1")
def test_provider_default_tags_cover_every_taggable_resource(prod):
    (provider,) = prod.doc["provider"]["aws"]
    assert provider["default_tags"][0]["tags"] == TAGS


@pytest.mark.control("12.5.1")
@pytest.mark.parametrize("config", ["prod", "imported", "sandbox"])
def test_every_chosen_name_carries_the_suffix(config, request):
    doc = request.getfixturevalue(config)
    suffix = doc.doc["output"]["suffix"]["value"]
    for rtype, name, body in doc.resources():
        if rtype == "aws_route53_record":
            continue  # DNS names come from the configured domain
        for key in NAME_KEYS:
            value = body.get(key)
            if isinstance(value, str) and not value.startswith("${") and value not in FIXED_NAMES:
                assert value.endswith(suffix) or f"-{suffix}/" in value, f"{rtype}.{name}.{key}={value}"
        tags = body.get("tags") or {}
        if "Name" in tags:
            assert tags["Name"].endswith(suffix), f"{rtype}.{name} Name tag {tags['Name']}"


@pytest.mark.control("12.5.1")
def test_resources_without_a_name_argument_get_a_name_tag(prod):
    for rtype in ("aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_eip", "aws_route_table",
                  "aws_internet_gateway", "aws_security_group", "aws_kms_key", "aws_flow_log"):
        for body in prod.list(rtype):
            assert body["tags"]["Name"].endswith("-prod-unit01"), rtype


def test_sandbox_endpoints_only_in_the_sandbox_synth(prod, imported, sandbox):
    for doc in (prod, imported):
        (provider,) = doc.doc["provider"]["aws"]
        assert "endpoints" not in provider and "skip_credentials_validation" not in provider
    (provider,) = sandbox.doc["provider"]["aws"]
    assert set(provider["endpoints"][0].values()) == {"http://127.0.0.1:5999"}
    for doc in (prod, imported, sandbox):
        (provider,) = doc.doc["provider"]["aws"]
        assert "access_key" not in provider and "secret_key" not in provider


def test_production_is_pinned_to_its_allowed_accounts(prod):
    (provider,) = prod.doc["provider"]["aws"]
    assert provider["allowed_account_ids"] == ["111122223333"]


def test_terraform_and_provider_pins(prod):
    tf = prod.doc["terraform"]
    # Ephemeral resources and write-only arguments need 1.11 (stack/terraform_version.py).
    assert tf["required_version"] == ">= 1.11"
    assert tf["required_providers"]["aws"]["version"] == "5.100.0"
    assert tf["backend"] == {"local": {"path": "terraform.tfstate"}}
    assert "/work/" not in prod.text and "/tmp/" not in prod.text


def test_outputs_name_everything_the_tests_read(prod):
    assert {"cloudfront_domain_name", "alb_dns_name", "static_bucket_name", "logs_bucket_name",
            "db_secret_arn", "asg_name", "db_cluster_identifier", "db_cluster_endpoint",
            "web_acl_arn", "sns_topic_arn", "app_log_group_name", "rotation_lambda_name",
            "launch_template_id", "target_group_arn"} <= set(prod.doc["output"])
