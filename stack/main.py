"""The platform: CloudFront + WAF -> HTTPS ALB -> ASG (t3.large, AL2023) -> Aurora MySQL.

Synthesize with ``python -m stack.cli [--config FILE] [--outdir cdktf.out]`` (see cli.py),
which writes ``<outdir>/stacks/platform/cdk.tf.json``. Configuration: stack/config/.
"""
from __future__ import annotations

from cdktf import TerraformStack
from constructs import Construct

from stack.alb import LoadBalancer, LoadBalancerProps
from stack.cdn import Cdn, CdnProps, WebFirewall, WebFirewallProps
from stack.certificates import DomainCertificate, DomainCertificateProps, origin_name
from stack.compute import Fleet, FleetProps
from stack.config import StackConfig
from stack.context import build_context
from stack.database import Database, DatabaseProps
from stack.monitoring import Alarms, AlarmsProps, Logging, LoggingProps
from stack.naming import STACK_NAME
from stack.outputs import StackOutputs, publish
from stack.providers import configure_providers
from stack.secrets import DB_MASTER_USERNAME, Rotation, RotationProps, Secrets, SecretsProps
from stack.security import (AppRole, AppRoleProps, FlowLogsRole, FlowLogsRoleProps, Keys,
                            RotationRole, RotationRoleProps, SecurityGroups, SecurityGroupsProps)
from stack.storage import Storage, StorageProps
from stack.terraform_version import REQUIRED_VERSION
from stack.vpc import Network, NetworkProps


class PlatformStack(TerraformStack):
    def __init__(self, scope: Construct, cfg: StackConfig):
        super().__init__(scope, STACK_NAME)
        self.add_override("terraform.required_version", REQUIRED_VERSION)
        configure_providers(self, cfg)
        ctx = build_context(self, cfg)
        tls = cfg.tls

        keys = Keys(self, "keys", ctx=ctx)
        logs = Logging(self, "logging", props=LoggingProps(ctx, keys.logs.arn))
        flow_role = FlowLogsRole(self, "flow-logs-role", props=FlowLogsRoleProps(ctx, logs.flow.arn))
        net = Network(self, "network", props=NetworkProps(ctx, logs.flow.arn, flow_role.role.arn))
        sgs = SecurityGroups(self, "security-groups", props=SecurityGroupsProps(ctx, net.vpc.id))
        storage = Storage(self, "storage", props=StorageProps(
            ctx, keys.static.arn, upload_static_assets=cfg.sandbox is None))
        secrets = Secrets(self, "secrets", props=SecretsProps(ctx, keys.secrets.arn))
        app_role = AppRole(self, "app-role", props=AppRoleProps(
            ctx, secrets.db.arn, keys.secrets.arn, logs.app.arn))
        rotation_role = RotationRole(self, "rotation-role", props=RotationRoleProps(
            ctx, secrets.db.arn, keys.secrets.arn, logs.rotation.arn))

        db = Database(self, "database", props=DatabaseProps(
            ctx, net.private_subnet_ids, sgs.db.id, keys.data.arn, DB_MASTER_USERNAME,
            secrets.db_master_password, list(logs.db.values())))
        rotation = Rotation(self, "rotation", props=RotationProps(
            ctx, secrets.db, secrets.db_master_password, db.cluster, rotation_role.role.arn,
            net.private_subnet_ids, sgs.rotation.id, logs.rotation))

        # The config's TLS rules leave two modes: domain_name with hosted_zone_id (certificates
        # made here) or an imported certificate_arn.
        cert = (DomainCertificate(self, "certificate", props=DomainCertificateProps(
                    ctx, tls.domain_name, tls.hosted_zone_id))
                if tls.domain_name and tls.hosted_zone_id else None)
        listener_cert = cert.certificate_arn if cert else tls.certificate_arn
        assert listener_cert, "config validation lets no TLS mode without a certificate through"
        lb = LoadBalancer(self, "load-balancer", props=LoadBalancerProps(
            ctx, net.vpc.id, net.public_subnet_ids, sgs.alb.id, listener_cert,
            storage.logs.bucket, storage.logs_policy, secrets.origin_header_value))
        fleet = Fleet(self, "fleet", props=FleetProps(
            ctx, net.private_subnet_ids, sgs.app.id, app_role.profile.arn,
            lb.target_group.arn, secrets.db.arn, db.cluster.endpoint, logs.app.name,
            logs.topic.arn))

        waf = WebFirewall(self, "waf", props=WebFirewallProps(ctx, logs.waf.arn))
        origin = (origin_name(cert.props.domain_name) if cert else tls.origin_domain_name) \
            or lb.alb.dns_name
        cdn = Cdn(self, "cdn", props=CdnProps(
            ctx, waf.acl.arn, origin, secrets.origin_header_value, storage.static,
            storage.static_public_access_block, storage.logs.bucket_domain_name,
            [cert.props.domain_name] if cert else [], cert.certificate_arn if cert else None))
        if cert:
            cert.point_dns(distribution_domain=cdn.distribution.domain_name,
                           alb_dns_name=lb.alb.dns_name, alb_zone_id=lb.alb.zone_id)

        Alarms(self, "alarms", props=AlarmsProps(
            ctx, logs.topic.arn, lb.alb.arn_suffix, lb.target_group.arn_suffix, fleet.asg.name,
            db.cluster.cluster_identifier, rotation.function.function_name, waf.acl.name))

        publish(self, StackOutputs(
            environment=cfg.environment, suffix=cfg.environment_suffix,
            cloudfront_domain_name=cdn.distribution.domain_name,
            cloudfront_distribution_id=cdn.distribution.id,
            alb_arn=lb.alb.arn, alb_dns_name=lb.alb.dns_name,
            target_group_arn=lb.target_group.arn,
            static_bucket_name=storage.static.bucket, logs_bucket_name=storage.logs.bucket,
            db_secret_arn=secrets.db.arn, asg_name=fleet.asg.name,
            launch_template_id=fleet.launch_template.id,
            db_cluster_identifier=db.cluster.cluster_identifier,
            db_cluster_endpoint=db.cluster.endpoint,
            db_reader_endpoint=db.cluster.reader_endpoint,
            web_acl_arn=waf.acl.arn, sns_topic_arn=logs.topic.arn,
            app_log_group_name=logs.app.name, rotation_log_group_name=logs.rotation.name,
            flow_log_group_name=logs.flow.name, waf_log_group_name=logs.waf.name,
            rotation_lambda_name=rotation.function.function_name, vpc_id=net.vpc.id,
        ))
