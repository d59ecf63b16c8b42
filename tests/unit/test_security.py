"""KMS, security groups and IAM: least privilege, checked on every policy in the JSON."""
import pytest

from tests.unit.tfjson import as_list

pytestmark = pytest.mark.unit

# Statements allowed a "*" resource, each because its API has no resource-level permission
# (or, in key policies, because "*" means the key itself).
STAR_RESOURCE_SIDS = {"PutOwnMetrics", "GeneratePassword", "VpcNetworkInterfaces",
                      "KeyAdministration", "UseThroughService", "CloudFrontOacDecrypt",
                      "CloudWatchLogs", "CloudWatchAlarmsToEncryptedTopic"}


@pytest.mark.control("3.7.4")
def test_every_kms_key_rotates_with_a_seven_day_deletion_window(prod):
    keys = prod.list("aws_kms_key")
    assert len(keys) == 4
    for key in keys:
        assert key["enable_key_rotation"] is True
        assert key["deletion_window_in_days"] == 7


@pytest.mark.control("7.2.5")
@pytest.mark.parametrize("config", ["prod", "imported", "sandbox"])
def test_no_policy_statement_allows_a_wildcard_action(config, request):
    doc = request.getfixturevalue(config)
    for where, policy in doc.policies():
        for st in policy["Statement"]:
            if st["Effect"] != "Allow":
                continue
            for action in as_list(st.get("Action", [])):
                assert "*" not in action, f"{where} {st.get('Sid')}: wildcard action {action}"


@pytest.mark.control("7.2.5")
def test_star_resources_only_where_the_api_has_no_resource_permission(prod):
    for where, policy in prod.policies():
        for st in policy["Statement"]:
            if st["Effect"] == "Allow" and "*" in as_list(st.get("Resource", [])):
                assert st.get("Sid") in STAR_RESOURCE_SIDS, f"{where}: {st}"


@pytest.mark.control("3.6.1")
def test_key_policies_name_exactly_their_services(prod):
    vias = {}
    for key in prod.list("aws_kms_key"):
        import json
        for st in json.loads(key["policy"])["Statement"]:
            if st["Sid"] == "UseThroughService":
                vias[key["description"]] = st["Condition"]["StringEquals"]["kms:ViaService"]
            if st["Sid"] == "KeyAdministration":
                # Administration only: using the key goes through a named service.
                assert "kms:PutKeyPolicy" in st["Action"] and "kms:ScheduleKeyDeletion" in st["Action"]
                assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(st["Action"])
    assert vias == {
        "Aurora storage and Performance Insights": ["rds.us-east-1.amazonaws.com"],
        "Secrets Manager: database credentials, origin header": [
            "secretsmanager.us-east-1.amazonaws.com"],
        "S3 static assets": ["s3.us-east-1.amazonaws.com"],
        "CloudWatch Logs and SNS alerts": ["sns.us-east-1.amazonaws.com"],
    }


def _rules(doc, rtype):
    return doc.list(rtype)


@pytest.mark.control("1.2.5", "1.3.1", "1.4.2")
def test_no_ingress_from_the_internet_and_alb_only_from_cloudfront(prod):
    ingress = _rules(prod, "aws_vpc_security_group_ingress_rule")
    assert not [r for r in ingress if r.get("cidr_ipv4") or r.get("cidr_ipv6")]
    alb_in = [r for r in ingress if "security-groups_alb" in r["security_group_id"]]
    assert len(alb_in) == 1 and alb_in[0]["from_port"] == alb_in[0]["to_port"] == 443
    prefix = prod.data["aws_ec2_managed_prefix_list"]
    (name, body), = prefix.items()
    assert body["name"] == "com.amazonaws.global.cloudfront.origin-facing"
    assert alb_in[0]["prefix_list_id"] == f"${{data.aws_ec2_managed_prefix_list.{name}.id}}"


@pytest.mark.control("1.2.5", "1.3.1", "1.3.2", "1.4.4")
def test_database_admits_3306_only_from_the_app_and_the_rotation_lambda(prod):
    db_in = [r for r in _rules(prod, "aws_vpc_security_group_ingress_rule")
             if "security-groups_db" in r["security_group_id"]]
    assert sorted(r["referenced_security_group_id"].split(".")[1] for r in db_in) == sorted(
        [prod.address("aws_security_group", prod.find("aws_security_group", "/app")).split(".")[1],
         prod.address("aws_security_group", prod.find("aws_security_group", "/rotation")).split(".")[1]])
    assert {(r["from_port"], r["to_port"]) for r in db_in} == {(3306, 3306)}
    db_out = [r for r in _rules(prod, "aws_vpc_security_group_egress_rule")
              if "security-groups_db" in r["security_group_id"]]
    assert db_out == [], "the database initiates nothing"


@pytest.mark.control("1.2.5", "1.3.1")
def test_app_admits_only_the_alb(prod):
    app_in = [r for r in _rules(prod, "aws_vpc_security_group_ingress_rule")
              if "security-groups_app" in r["security_group_id"]]
    assert len(app_in) == 1
    assert "security-groups_alb" in app_in[0]["referenced_security_group_id"]
    assert app_in[0]["from_port"] == 8080


@pytest.mark.control("7.2.5")
def test_instance_role_reads_only_its_secret_and_writes_only_its_logs(prod):
    import json
    policy = json.loads(prod.find("aws_iam_role_policy", "app-role")["policy"])
    by_sid = {st["Sid"]: st for st in policy["Statement"]}
    assert by_sid["ReadDbSecret"]["Resource"] == [
        prod.ref("aws_secretsmanager_secret", prod.find("aws_secretsmanager_secret", "secrets/db"), "arn")]
    assert all("logging_app" in r for r in by_sid["WriteOwnLogs"]["Resource"])
    assert by_sid["PutOwnMetrics"]["Condition"]["StringEquals"]["cloudwatch:namespace"] == \
        "Platform/app-prod-unit01"
    assert prod.one("aws_iam_role_policy_attachment")["policy_arn"].endswith(
        "AmazonSSMManagedInstanceCore")


@pytest.mark.control("7.2.5")
def test_rotation_role_rotates_only_its_secret(prod):
    import json
    policy = json.loads(prod.find("aws_iam_role_policy", "rotation-role")["policy"])
    rotate = next(st for st in policy["Statement"] if st["Sid"] == "RotateOneSecret")
    assert rotate["Resource"] == [
        prod.ref("aws_secretsmanager_secret", prod.find("aws_secretsmanager_secret", "secrets/db"), "arn")]
    assert "secretsmanager:UpdateSecretVersionStage" in rotate["Action"]
