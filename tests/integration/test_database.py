"""Aurora MySQL: encrypted, 7-day backups, Performance Insights, TLS-only parameters."""
from __future__ import annotations

import pytest

from tests.integration import live_checks

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster(stack, clients):
    return clients.rds.describe_db_clusters(
        DBClusterIdentifier=stack.outputs.db_cluster_identifier)["DBClusters"][0]


@pytest.mark.control("3.5.1")
def test_cluster_is_encrypted_with_the_stack_key(cluster, clients):
    """Storage encryption is on, with a customer-managed KMS key that rotates."""
    assert cluster["StorageEncrypted"] is True
    key = clients.kms.describe_key(KeyId=cluster["KmsKeyId"])["KeyMetadata"]
    assert key["KeyManager"] == "CUSTOMER"


def test_backups_are_kept_seven_days(cluster, deployed_config):
    """Automated backups (point-in-time recovery) are kept the configured 7+ days."""
    assert cluster["BackupRetentionPeriod"] == deployed_config.database.backup_retention_days
    assert cluster["BackupRetentionPeriod"] >= 7


@pytest.mark.control("1.4.4")
def test_two_instances_in_two_zones_not_public(stack, cluster, clients):
    """The cluster has two instances, in different AZs, neither publicly accessible."""
    members = [m["DBInstanceIdentifier"] for m in cluster["DBClusterMembers"]]
    assert len(members) == 2
    zones = set()
    for ident in members:
        inst = clients.rds.describe_db_instances(DBInstanceIdentifier=ident)["DBInstances"][0]
        assert inst["PubliclyAccessible"] is False
        zones.add(inst["AvailabilityZone"])
    assert len(zones) == 2


@pytest.mark.live(reason="moto reads PerformanceInsightsEnabled back as null")
def test_performance_insights_on_every_instance(cluster, clients):
    """Performance Insights is enabled on each instance, encrypted with a KMS key."""
    live_checks.check_performance_insights(clients.rds, cluster)


@pytest.mark.control("2.2.6", "8.3.2")
def test_cluster_parameter_group_requires_tls(cluster, clients):
    """The cluster's parameter group sets require_secure_transport=ON and allows only
    TLS 1.2 and 1.3."""
    name = cluster["DBClusterParameterGroup"]
    params = {}
    paginator = clients.rds.get_paginator("describe_db_cluster_parameters")
    for page in paginator.paginate(DBClusterParameterGroupName=name, Source="user"):
        params.update({p["ParameterName"]: p.get("ParameterValue") for p in page["Parameters"]})
    assert params.get("require_secure_transport") == "ON", params
    assert set(params.get("tls_version", "").split(",")) == {"TLSv1.2", "TLSv1.3"}, params
