"""Aurora MySQL 8.0: two instances in two AZs, KMS, 7-day PITR, TLS 1.2+ only, audit logs."""
from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from constructs import Construct
from cdktf_cdktf_provider_aws.db_parameter_group import DbParameterGroup, DbParameterGroupParameter
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup, RdsClusterParameterGroupParameter)

from stack.context import DB_PORT, StackContext
from stack.monitoring import DB_LOG_EXPORTS

PARAMETER_FAMILY = "aurora-mysql8.0"
# Cluster parameters that make the database refuse anything but TLS 1.2+ and audit access.
CLUSTER_PARAMETERS = {
    "require_secure_transport": ("ON", "immediate"),
    "tls_version": ("TLSv1.2,TLSv1.3", "pending-reboot"),
    "server_audit_logging": ("1", "immediate"),
    "server_audit_events": ("CONNECT,QUERY_DCL,QUERY_DDL", "immediate"),
    "slow_query_log": ("1", "immediate"),
    "long_query_time": ("2", "immediate"),
}
# No ca_cert_identifier: new instances get AWS's current default CA (rds-ca-rsa2048-g1), and
# clients verify against the global bundle that holds every RDS CA. Naming one makes provider
# 5.100.0 modify and reboot each instance after creation wherever the default differs.


@dataclass(frozen=True)
class DatabaseProps:
    ctx: StackContext
    subnet_ids: list[str]
    security_group_id: str
    kms_key_arn: str
    master_username: str
    master_password: str          # an ephemeral reference, used write-only
    log_groups: list[ITerraformDependable]   # pre-created export targets


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, props: DatabaseProps):
        super().__init__(scope, id)
        ctx, db = props.ctx, props.ctx.cfg.database
        names = ctx.names
        subnets = DbSubnetGroup(self, "subnets", name=names.db_subnet_group,
                                subnet_ids=props.subnet_ids,
                                description="Private subnets of the platform")
        self.cluster_parameters = RdsClusterParameterGroup(
            self, "cluster-params", name=names.db_cluster_parameter_group,
            family=PARAMETER_FAMILY, description="TLS 1.2+ only, audit and slow-query logs",
            parameter=[RdsClusterParameterGroupParameter(name=k, value=v, apply_method=m)
                       for k, (v, m) in CLUSTER_PARAMETERS.items()])
        instance_parameters = DbParameterGroup(
            self, "instance-params", name=names.db_parameter_group, family=PARAMETER_FAMILY,
            description="Instance parameters of the platform",
            parameter=[DbParameterGroupParameter(name="log_output", value="FILE")])
        self.cluster = RdsCluster(
            self, "cluster", cluster_identifier=names.db_cluster, engine="aurora-mysql",
            engine_version=db.engine_version, database_name="platform",
            master_username=props.master_username,
            master_password_wo=props.master_password, master_password_wo_version=1,
            port=DB_PORT, db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[props.security_group_id],
            db_cluster_parameter_group_name=self.cluster_parameters.name,
            storage_encrypted=True, kms_key_id=props.kms_key_arn,
            backup_retention_period=db.backup_retention_days,
            preferred_backup_window=db.backup_window,
            preferred_maintenance_window=db.maintenance_window,
            copy_tags_to_snapshot=True,
            enabled_cloudwatch_logs_exports=list(DB_LOG_EXPORTS),
            iam_database_authentication_enabled=True,
            deletion_protection=db.deletion_protection,
            skip_final_snapshot=db.skip_final_snapshot,
            final_snapshot_identifier=None if db.skip_final_snapshot else names.of("aurora-final"),
            depends_on=props.log_groups)
        self.instances = [
            RdsClusterInstance(
                self, f"instance-{i + 1}", identifier=getattr(names, f"db_instance_{i + 1}"),
                cluster_identifier=self.cluster.id, engine="aurora-mysql",
                engine_version=db.engine_version, instance_class=db.instance_class,
                availability_zone=ctx.az_names[i],  # two AZs: a zone failure fails over
                db_parameter_group_name=instance_parameters.name,
                db_subnet_group_name=subnets.name, publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=props.kms_key_arn,
                performance_insights_retention_period=7, copy_tags_to_snapshot=True)
            for i in range(2)]
