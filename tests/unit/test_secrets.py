import pytest

pytestmark = pytest.mark.unit


@pytest.mark.control("8.3.2", "8.6.3")
def test_db_secret_encrypted_with_its_key_and_rotated_every_30_days(prod):
    secret = prod.find("aws_secretsmanager_secret", "secrets/db")
    assert secret["name"] == "db-credentials-prod-unit01"
    assert "aws_kms_key.keys_kms-secrets" in secret["kms_key_id"]
    rotation = prod.one("aws_secretsmanager_secret_rotation")
    assert rotation["rotation_rules"]["automatically_after_days"] == 30
    assert "aws_lambda_function" in rotation["rotation_lambda_arn"]
    assert "aws_secretsmanager_secret.secrets_db" in rotation["secret_id"]


@pytest.mark.control("8.6.2")
def test_initial_secret_version_is_write_only_json_with_the_cluster_endpoint(prod):
    version = prod.find("aws_secretsmanager_secret_version", "db-initial")
    assert "secret_string" not in version
    value = version["secret_string_wo"]
    assert value.startswith("${jsonencode({engine = \"mysql\"")
    assert "aws_rds_cluster." in value and ".endpoint" in value
    assert "password = ephemeral.aws_secretsmanager_random_password.db_master.random_password" in value


def test_rotation_lambda_runs_in_the_private_subnets_with_its_own_group(prod):
    fn = prod.one("aws_lambda_function")
    assert fn["function_name"] == "rotation-prod-unit01"
    assert fn["runtime"].startswith("python3.")
    assert all("network_private" in s for s in fn["vpc_config"]["subnet_ids"])
    assert fn["vpc_config"]["security_group_ids"] == [
        prod.ref("aws_security_group", prod.find("aws_security_group", "/rotation"), "id")]
    assert fn["filename"].startswith("assets/") and fn["source_code_hash"]


@pytest.mark.control("7.2.5")
def test_only_secrets_manager_may_invoke_it_for_this_secret(prod):
    perm = prod.one("aws_lambda_permission")
    assert perm["principal"] == "secretsmanager.amazonaws.com"
    assert perm["action"] == "lambda:InvokeFunction"
    assert "aws_secretsmanager_secret.secrets_db" in perm["source_arn"]


def test_lambda_asset_is_packaged_beside_the_json(prod):
    fn = prod.one("aws_lambda_function")
    package = prod.path.parent / fn["filename"]
    assert package.is_file() and package.stat().st_size > 10_000


SECRET_ATTRIBUTES = {"secret_string", "secret_string_wo", "private_key", "secret_key", "access_key"}


def _walk(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")
    else:
        yield path, node


@pytest.mark.parametrize("config", ["prod", "imported", "sandbox"])
def test_no_secret_value_is_written_into_the_json(config, request):
    """Every secret-named attribute holds a reference resolved at apply, never a literal."""
    doc = request.getfixturevalue(config)
    for path, value in _walk(doc.doc.get("resource", {})):
        leaf = path.rsplit(".", 1)[-1].lower()
        if ("password" in leaf or leaf in SECRET_ATTRIBUTES) and isinstance(value, str):
            # The message names the place, never the value: it may be the secret.
            assert value.startswith("${"), f"{path} holds a literal ({len(value)} characters)"
    origin_header = next(o for o in doc.one("aws_cloudfront_distribution")["origin"]
                         if o["origin_id"] == "alb")["custom_header"][0]["value"]
    assert origin_header.startswith("${data.aws_secretsmanager_secret_version.")
