"""Resource names: ``<type>-<environment>-<suffix>``, computed here and nowhere else.

Each name carries its AWS length limit and character rules, so a suffix that would break
any of them is rejected before a construct exists (see ``name_violations``).
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# The Terraform stack's name: cdktf writes its JSON to <outdir>/stacks/<STACK_NAME>/.
STACK_NAME = "platform"

# (attribute, what AWS calls it, max length, must start with a letter)
_RULES: tuple[tuple[str, str, int, bool], ...] = (
    ("alb", "load balancer name", 32, False),
    ("target_group", "target group name", 32, False),
    ("static_bucket", "S3 bucket name", 63, True),
    ("logs_bucket", "S3 bucket name", 63, True),
    ("app_role", "IAM role name", 64, False),
    ("rotation_role", "IAM role name", 64, False),
    ("flow_logs_role", "IAM role name", 64, False),
    ("instance_profile", "IAM instance profile name", 128, False),
    ("db_cluster", "RDS cluster identifier", 63, True),
    ("db_instance_1", "RDS instance identifier", 63, True),
    ("db_instance_2", "RDS instance identifier", 63, True),
    ("db_subnet_group", "DB subnet group name", 255, True),
    ("db_cluster_parameter_group", "DB cluster parameter group name", 255, True),
    ("db_parameter_group", "DB parameter group name", 255, True),
    ("rotation_lambda", "Lambda function name", 64, False),
    ("oac", "CloudFront origin access control name", 64, False),
    ("web_acl", "WAF web ACL name", 128, False),
    ("waf_log_group", "WAF log group name", 512, False),
    ("launch_template", "launch template name", 128, False),
    ("asg", "Auto Scaling group name", 255, False),
    ("sns_topic", "SNS topic name", 256, False),
)


@dataclass(frozen=True)
class Naming:
    environment: str
    suffix: str

    def of(self, rtype: str) -> str:
        return f"{rtype}-{self.environment}-{self.suffix}"

    # One property per named resource; the rules above check each.
    alb = property(lambda s: s.of("alb"))
    target_group = property(lambda s: s.of("tg"))
    static_bucket = property(lambda s: s.of("static-assets"))
    logs_bucket = property(lambda s: s.of("access-logs"))
    app_role = property(lambda s: s.of("app-role"))
    rotation_role = property(lambda s: s.of("rotation-role"))
    flow_logs_role = property(lambda s: s.of("flowlogs-role"))
    instance_profile = property(lambda s: s.of("app-profile"))
    db_cluster = property(lambda s: s.of("aurora"))
    db_instance_1 = property(lambda s: s.of("aurora-1"))
    db_instance_2 = property(lambda s: s.of("aurora-2"))
    db_subnet_group = property(lambda s: s.of("aurora-subnets"))
    db_cluster_parameter_group = property(lambda s: s.of("aurora-cluster-params"))
    db_parameter_group = property(lambda s: s.of("aurora-instance-params"))
    db_secret = property(lambda s: s.of("db-credentials"))
    origin_secret = property(lambda s: s.of("origin-verify"))
    rotation_lambda = property(lambda s: s.of("rotation"))
    oac = property(lambda s: s.of("oac"))
    web_acl = property(lambda s: s.of("waf"))
    launch_template = property(lambda s: s.of("app-lt"))
    asg = property(lambda s: s.of("app-asg"))
    sns_topic = property(lambda s: s.of("alerts"))
    distribution = property(lambda s: s.of("cdn"))
    vpc = property(lambda s: s.of("vpc"))
    # Log groups: WAF insists on the aws-waf-logs- prefix, Lambda on /aws/lambda/<name>.
    waf_log_group = property(lambda s: "aws-waf-logs-" + s.of("waf"))
    app_log_group = property(lambda s: "/platform/" + s.of("app"))
    flow_log_group = property(lambda s: "/platform/" + s.of("vpc-flow"))
    rotation_log_group = property(lambda s: "/aws/lambda/" + s.rotation_lambda)
    metrics_namespace = property(lambda s: "Platform/" + s.of("app"))

    def db_log_group(self, kind: str) -> str:
        return f"/aws/rds/cluster/{self.db_cluster}/{kind}"

    def sg(self, role: str) -> str:
        return self.of(f"{role}-sg")

    def kms_alias(self, purpose: str) -> str:
        return "alias/" + self.of(f"kms-{purpose}")

    def alarm(self, what: str) -> str:
        return self.of(f"alarm-{what}")


_RDS_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


def name_violations(names: Naming) -> Iterator[str]:
    """Say, for each derived name that breaks its AWS rule, which setting to change."""
    longest_ok = min(limit - len(getattr(Naming(names.environment, ""), attr))
                     for attr, _, limit, _ in _RULES)
    for attr, what, limit, letter_first in _RULES:
        name = getattr(names, attr)
        if len(name) > limit:
            yield (f"environment_suffix={names.suffix!r} makes the {what} {name!r} "
                   f"{len(name)} characters; AWS allows {limit}. With environment "
                   f"{names.environment!r} the suffix may have at most {longest_ok} characters")
            return
        if letter_first and not _RDS_RE.match(name):
            yield f"environment_suffix={names.suffix!r} makes an invalid {what} {name!r}"
            return
