"""AWS's own limits for the values the stack sends, each once, with where it comes from.

A value outside these is refused by AWS at apply, after minutes of creating other resources;
the config refuses it before a construct exists. The platform's own, stricter choices
(PCI DSS, one region) are marked as such.
"""
from __future__ import annotations

# AWS regions as of provider 5.100.0. An unknown name is a typo, not a new region.
KNOWN_REGIONS = frozenset(
    """us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-south-1 ap-south-2
    ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7
    ap-northeast-1 ap-northeast-2 ap-northeast-3 ca-central-1 ca-west-1 eu-central-1
    eu-central-2 eu-west-1 eu-west-2 eu-west-3 eu-south-1 eu-south-2 eu-north-1 il-central-1
    me-south-1 me-central-1 mx-central-1 sa-east-1""".split()
)
# Platform: CloudFront's WAF web ACL and its log group must live in us-east-1; the stack has
# one provider, so the whole stack does too.
SUPPORTED_REGIONS = frozenset({"us-east-1"})

# WAFv2 RateBasedStatement.Limit: "minimum value of 10, maximum 2000000000" requests per
# evaluation window (the provider's default window is 300 s).
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000

# CloudWatch Logs PutRetentionPolicy retentionInDays: "Possible values are: ...".
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)
# Platform, PCI DSS 10.5.1: keep audit logs 12 months, 3 months immediately available.
PCI_MIN_LOG_RETENTION_DAYS = 365

# Secrets Manager RotationRules.AutomaticallyAfterDays: 1..1000; platform, PCI DSS 8.3.9: 90.
ROTATION_DAYS_MIN, ROTATION_DAYS_MAX, SECRETS_MANAGER_ROTATION_MAX = 1, 90, 1000

# RDS BackupRetentionPeriod: 1..35 days; platform: 7 days of point-in-time recovery at least.
BACKUP_RETENTION_MIN, BACKUP_RETENTION_MAX = 7, 35
# RDS PreferredBackupWindow / PreferredMaintenanceWindow: "Must be at least 30 minutes."
RDS_WINDOW_MIN_MINUTES = 30

# Aurora MySQL 3 (MySQL 8.0) versions that accept new clusters, from AWS's "Database engine
# updates for Amazon Aurora MySQL version 3" (Aurora MySQL release notes), leaving out the
# versions marked Deprecated there (3.01 to 3.03, 3.05 to 3.07). Add new ones here; check with
# `aws rds describe-db-engine-versions --engine aurora-mysql`.
AURORA_MYSQL_RELEASES = ("3.04.0", "3.04.1", "3.04.2", "3.04.3", "3.04.4",  # long-term support
                         "3.08.0", "3.08.1", "3.08.2", "3.09.0", "3.10.0", "3.10.1", "3.10.2",
                         "3.10.3", "3.11.0", "3.11.1")
AURORA_MYSQL_VERSIONS = tuple(f"8.0.mysql_aurora.{v}" for v in AURORA_MYSQL_RELEASES)
# db.serverless needs serverlessv2_scaling_configuration on the cluster, which the stack does
# not set: RDS refuses the instance at apply.
AURORA_UNSUPPORTED_CLASSES = frozenset({"db.serverless"})

# ACM RequestCertificate: "the length of the domain name (technically, the Common Name) ...
# cannot exceed 64 octets"; SANs and any DNS name up to 253, labels up to 63 (RFC 1035).
ACM_FIRST_NAME_MAX = 64
DNS_NAME_MAX = 253
DNS_LABEL_MAX = 63

# EC2 Auto Scaling PutScheduledUpdateGroupAction Recurrence: Unix cron, 5 fields, 1..255 chars.
RECURRENCE_MAX_LENGTH = 255
# (field, lowest, highest, names for lowest.. in order): Unix cron as Auto Scaling reads it.
CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                      "NOV", "DEC")),
    ("day-of-week", 0, 6, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)

# S3 bucket naming rules: prefixes and suffixes S3 reserves for its own features (access
# point aliases, Object Lambda, Multi-Region Access Points, directory and table buckets).
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")

# Resource tag values: up to 256 Unicode letters, digits, spaces and _ . : / = + - @.
TAG_VALUE_MAX = 256

# Platform: 3 AZs, each with a public and a private subnet; the VPC block leaves room for them.
VPC_PREFIX_MIN, VPC_PREFIX_MAX = 16, 24
# VPC CreateSubnet: a subnet block is /16 to /28.
SUBNET_PREFIX_MIN, SUBNET_PREFIX_MAX = 16, 28
SUBNETS_PER_TIER = 3

# Platform: the Auto Scaling group's bounds (the ALB needs a target; one instance per AZ
# in business hours; a cap on spend).
MIN_INSTANCES, BUSINESS_HOURS_MIN_INSTANCES, MAX_INSTANCES = 1, 3, 100
