import pytest

pytestmark = pytest.mark.unit


@pytest.mark.control("3.5.1")
def test_aurora_mysql_8_encrypted_with_7_day_pitr(prod):
    c = prod.one("aws_rds_cluster")
    assert c["engine"] == "aurora-mysql" and c["engine_version"].startswith("8.0.mysql_aurora.3.")
    assert c["storage_encrypted"] is True and "aws_kms_key.keys_kms-data" in c["kms_key_id"]
    assert c["backup_retention_period"] == 7 and c["preferred_backup_window"]
    assert set(c["enabled_cloudwatch_logs_exports"]) == {"audit", "error", "slowquery"}
    assert "aws_db_subnet_group" in c["db_subnet_group_name"]


@pytest.mark.control("8.3.2", "8.6.2")
def test_master_password_is_write_only_from_an_ephemeral_value(prod):
    c = prod.one("aws_rds_cluster")
    assert "master_password" not in c
    assert c["master_password_wo"] == "${ephemeral.aws_secretsmanager_random_password.db_master.random_password}"
    assert prod.doc["ephemeral"]["aws_secretsmanager_random_password"]["db_master"]["password_length"] >= 32


@pytest.mark.control("1.4.4")
def test_two_instances_in_different_azs_private_with_performance_insights(prod):
    instances = prod.list("aws_rds_cluster_instance")
    assert len(instances) == 2
    assert len({i["availability_zone"] for i in instances}) == 2
    for i in instances:
        assert i["publicly_accessible"] is False
        assert i["performance_insights_enabled"] is True
        assert "aws_kms_key.keys_kms-data" in i["performance_insights_kms_key_id"]


@pytest.mark.control("2.2.6", "8.3.2")
def test_parameter_group_forces_tls_12_plus(prod):
    params = {p["name"]: p["value"] for p in prod.one("aws_rds_cluster_parameter_group")["parameter"]}
    assert params["require_secure_transport"] == "ON"
    assert params["tls_version"] == "TLSv1.2,TLSv1.3"
    assert params["server_audit_logging"] == "1"


def test_deletion_protection_and_final_snapshot_follow_config(prod, imported):
    p, i = prod.one("aws_rds_cluster"), imported.one("aws_rds_cluster")
    assert p["deletion_protection"] is True and p["skip_final_snapshot"] is False
    assert p["final_snapshot_identifier"] == "aurora-final-prod-unit01"
    assert i["deletion_protection"] is False and i["skip_final_snapshot"] is True


@pytest.mark.control("10.2.1")
def test_export_log_groups_exist_before_the_cluster(prod):
    deps = prod.one("aws_rds_cluster")["depends_on"]
    assert sum("aws_cloudwatch_log_group.logging_db-" in d for d in deps) == 3
