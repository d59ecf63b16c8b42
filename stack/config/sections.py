"""The sections of the stack config: strict pydantic dataclasses, each rule with its limit.

Rules between two settings of a section read the ones declared before them (``info.data``),
so they are reported alongside every other problem rather than once those are fixed.
"""
from __future__ import annotations

import datetime
import ipaddress
import itertools
import re
from zoneinfo import ZoneInfo

from pydantic import Field, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from stack.config import aws_limits as aws
from stack.config.aws_names import (DB_INSTANCE_CLASS, HOSTED_ZONE_ID, TAG_VALUE,
                                    certificate_arn_problem, dns_name_problem)
from stack.config.errors import broken, raises_config_error
from stack.config.fields import STRICT, anchored, did_you_mean, hinted
from stack.config.loopback import loopback_problem
from stack.config.schedules import (DAILY_WINDOW, WEEKLY_WINDOW, backup_window_problem,
                                    cron_problem, maintenance_window_problem, windows_overlap)

_TIME_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class Capacity:
    """Auto Scaling group sizes; business hours raise the floor to ``business_hours_min``."""
    min_size: int = hinted(2, minimum=aws.MIN_INSTANCES)
    desired: int = 3
    max_size: int = hinted(6, maximum=aws.MAX_INSTANCES)
    business_hours_min: int = hinted(3, minimum=aws.BUSINESS_HOURS_MIN_INSTANCES)
    scale_up_cpu_percent: int = hinted(70, minimum=1, maximum=99)
    scale_down_cpu_percent: int = hinted(30, minimum=1, maximum=99)

    @field_validator("min_size")
    @classmethod
    def _min(cls, value: int) -> int:
        if value < aws.MIN_INSTANCES:
            raise broken(f": at least {aws.MIN_INSTANCES} (the ALB needs a target)")
        return value

    @field_validator("max_size")
    @classmethod
    def _max(cls, value: int, info: ValidationInfo) -> int:
        if value > aws.MAX_INSTANCES:
            raise broken(f": at most {aws.MAX_INSTANCES} for this platform")
        low, desired = info.data.get("min_size"), info.data.get("desired")
        if low is not None and desired is not None and not low <= desired <= value:
            raise broken(f": need min_size <= desired <= max_size, got {low} <= {desired} <= "
                         f"{value} (Auto Scaling refuses a desired capacity outside min..max)",
                         setting="capacity", show_value=False)
        return value

    @field_validator("business_hours_min")
    @classmethod
    def _business_min(cls, value: int, info: ValidationInfo) -> int:
        if value < aws.BUSINESS_HOURS_MIN_INSTANCES:
            raise broken(f": at least {aws.BUSINESS_HOURS_MIN_INSTANCES} (one per AZ)")
        high = info.data.get("max_size")
        if high is not None and value > high:
            raise broken(f"exceeds max_size={high} (the business-hours action's minimum "
                         "must fit the group's maximum)")
        return value

    @field_validator("scale_down_cpu_percent")
    @classmethod
    def _thresholds(cls, value: int, info: ValidationInfo) -> int:
        up = info.data.get("scale_up_cpu_percent")
        if up is not None and not 0 < value < up < 100:
            raise broken(": need 0 < scale_down_cpu_percent < scale_up_cpu_percent < 100, got "
                         f"{value} and {up}", setting="capacity", show_value=False)
        return value


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class Schedule:
    """Business hours for the scheduled actions, as cron in ``time_zone``."""
    time_zone: str = "America/New_York"
    business_start: str = "0 8 * * MON-FRI"
    business_end: str = "0 18 * * MON-FRI"

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            if not _TIME_ZONE_KEY.fullmatch(value):
                raise ValueError(value)
            ZoneInfo(value)
        except (ValueError, KeyError, OSError):  # not found is a KeyError; "../x" a ValueError
            raise broken("is not an IANA time zone such as America/New_York (Auto Scaling "
                         "takes IANA names)") from None
        return value

    @field_validator("business_start", "business_end")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem:
            raise broken(": " + problem)
        return value


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class NetworkPlan:
    vpc_cidr: str = "10.20.0.0/16"
    public_subnets: tuple[str, ...] = ("10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24")
    private_subnets: tuple[str, ...] = ("10.20.10.0/24", "10.20.11.0/24", "10.20.12.0/24")

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc(cls, value: str) -> str:
        try:
            vpc = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise broken(f"is not a CIDR block: {exc}") from None
        if vpc.version != 4 or not aws.VPC_PREFIX_MIN <= vpc.prefixlen <= aws.VPC_PREFIX_MAX:
            raise broken(f": an IPv4 block from /{aws.VPC_PREFIX_MIN} to /{aws.VPC_PREFIX_MAX} "
                         "(room for 3 public and 3 private subnets)")
        return value

    @field_validator("public_subnets", "private_subnets")
    @classmethod
    def _subnets(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        vpc = ipaddress.ip_network(info.data["vpc_cidr"]) if "vpc_cidr" in info.data else None
        problems = []
        if len(value) != aws.SUBNETS_PER_TIER:
            problems.append(f"exactly {aws.SUBNETS_PER_TIER} CIDR blocks (one per AZ), got "
                            f"{len(value)}")
        nets: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                problems.append(f"{cidr!r} is not a CIDR block: {exc}")
                continue
            if vpc is not None and (net.version != 4 or not net.subnet_of(vpc)):  # type: ignore[arg-type]
                problems.append(f"{cidr} is not inside vpc_cidr {vpc}")
            elif not aws.SUBNET_PREFIX_MIN <= net.prefixlen <= aws.SUBNET_PREFIX_MAX:
                problems.append(f"{cidr} must be /{aws.SUBNET_PREFIX_MIN} to "
                                f"/{aws.SUBNET_PREFIX_MAX} (the VPC subnet limit)")
            nets.append((info.field_name or "", net))
        public = ([("public_subnets", ipaddress.ip_network(c)) for c in info.data["public_subnets"]]
                  if info.field_name == "private_subnets" and "public_subnets" in info.data
                  else [])
        for (tier_a, a), (tier_b, b) in [*itertools.combinations(nets, 2),
                                         *itertools.product(public, nets)]:
            if a.version == b.version and a.overlaps(b):
                problems.append(f"{tier_a} {a} overlaps {tier_b} {b}")
        if problems:
            raise broken(": " + "; ".join(problems))
        return value


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class TlsSettings:
    """How the viewer and origin hops get certificates (README: "TLS modes").

    - ``domain_name`` + ``hosted_zone_id``: DNS-validated ACM certificates for the domain
      (CloudFront) and ``origin.<domain>`` (ALB); both hops verified TLS 1.2+.
    - ``certificate_arn`` (+ ``origin_domain_name``): an existing/imported certificate on
      the ALB; CloudFront keeps its default certificate for viewers.
    """
    domain_name: str | None = None
    hosted_zone_id: str | None = None
    certificate_arn: str | None = None
    origin_domain_name: str | None = None

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, value: str | None) -> str | None:
        problem = value and dns_name_problem(value, first_name_of_certificate=True)
        if problem:
            raise broken(problem)
        return value

    @field_validator("hosted_zone_id")
    @classmethod
    def _zone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not HOSTED_ZONE_ID.fullmatch(value):
            raise broken("is not a Route 53 hosted zone id (Z followed by up to 31 capitals "
                         "and digits)")
        if "domain_name" in info.data and (info.data["domain_name"] is None) != (value is None):
            raise broken(": domain_name and hosted_zone_id go together (DNS-validated "
                         "certificates): set both or neither", setting="tls", show_value=False)
        return value

    @field_validator("certificate_arn")
    @classmethod
    def _arn(cls, value: str | None, info: ValidationInfo) -> str | None:
        problem = value and certificate_arn_problem(value)
        if problem:
            raise broken(problem)
        if value and info.data.get("domain_name"):
            raise broken(": set either domain_name + hosted_zone_id or certificate_arn, not both",
                         setting="tls", show_value=False)
        return value

    @field_validator("origin_domain_name")
    @classmethod
    def _origin(cls, value: str | None, info: ValidationInfo) -> str | None:
        problem = value and dns_name_problem(value)
        if problem:
            raise broken(problem)
        if value and info.data.get("domain_name"):
            raise broken(": only with certificate_arn; with domain_name the origin is "
                         "origin.<domain_name>: remove it")
        return value


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class DatabaseSettings:
    instance_class: str = "db.r6g.large"
    engine_version: str = hinted("8.0.mysql_aurora.3.08.2", enum=list(aws.AURORA_MYSQL_VERSIONS))
    backup_retention_days: int = hinted(7, minimum=aws.BACKUP_RETENTION_MIN,
                                        maximum=aws.BACKUP_RETENTION_MAX)
    backup_window: str = hinted("03:00-04:00", pattern=anchored(DAILY_WINDOW))
    maintenance_window: str = hinted("sun:05:00-sun:06:00", pattern=anchored(WEEKLY_WINDOW))
    deletion_protection: bool = False
    skip_final_snapshot: bool = True

    @field_validator("instance_class")
    @classmethod
    def _class(cls, value: str) -> str:
        if value in aws.AURORA_UNSUPPORTED_CLASSES:
            raise broken(": the stack sets no Serverless v2 scaling, so RDS refuses this "
                         "class; choose a provisioned class like db.r6g.large")
        if not DB_INSTANCE_CLASS.fullmatch(value):
            raise broken("is not an RDS instance class like db.r6g.large")
        return value

    @field_validator("engine_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if value not in aws.AURORA_MYSQL_VERSIONS:
            raise broken(": not an Aurora MySQL 8.0 (8.0.mysql_aurora.3.x) version that "
                         "accepts new clusters" + did_you_mean(value, aws.AURORA_MYSQL_VERSIONS)
                         + f"; known: 8.0.mysql_aurora. + {', '.join(aws.AURORA_MYSQL_RELEASES)}"
                         " (stack/config/aws_limits.py)")
        return value

    @field_validator("backup_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not aws.BACKUP_RETENTION_MIN <= value <= aws.BACKUP_RETENTION_MAX:
            raise broken(f": {aws.BACKUP_RETENTION_MIN}..{aws.BACKUP_RETENTION_MAX} (RDS keeps "
                         f"at most {aws.BACKUP_RETENTION_MAX}; the platform wants 7 days of "
                         "point-in-time recovery at least)")
        return value

    @field_validator("backup_window")
    @classmethod
    def _backup(cls, value: str) -> str:
        problem = backup_window_problem(value)
        if problem:
            raise broken(problem)
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance(cls, value: str, info: ValidationInfo) -> str:
        problem = maintenance_window_problem(value)
        if problem:
            raise broken(problem)
        day = "backup_window" in info.data and windows_overlap(info.data["backup_window"], value)
        if day:
            raise broken(f"overlaps backup_window {info.data['backup_window']} on {day} (RDS: "
                         "the backup and maintenance windows must not overlap)")
        return value


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class SandboxSettings:
    """Only for the embedded moto sandbox: endpoints and test credentials in the provider.

    Never set for a real account; the production synth has no endpoint overrides.
    """
    endpoint: str = "http://127.0.0.1:5000"

    @field_validator("endpoint")
    @classmethod
    def _loopback(cls, value: str) -> str:
        problem = loopback_problem(value)
        if problem:
            raise broken(": " + problem)
        return value



def tag_value(value: str, what: str) -> str:
    """``value`` if AWS accepts it as a tag value; ``what`` says which tag it becomes."""
    if len(value) > aws.TAG_VALUE_MAX or not TAG_VALUE.fullmatch(value):
        raise broken(f": 1-{aws.TAG_VALUE_MAX} characters of letters, digits, spaces and "
                     f"_.:/=+-@ ({what})")
    return value


# UTC only, to the second, with the Z: a sweep in any time zone compares it as a string.
EXPIRES_AT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
EXPIRES_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class RunTags:
    """The run that deployed the stack, tagged on every resource (StackSuffix, StackRun,
    ExpiresAt) so that a job can tell an abandoned stack from a live one.

    Set by the harness for each run; a config without it synthesizes no run tags.
    """
    run_id: str = Field(json_schema_extra={"pattern": anchored(TAG_VALUE),
                                           "maxLength": aws.TAG_VALUE_MAX})
    expires_at: str = Field(json_schema_extra={"pattern": anchored(EXPIRES_AT)})

    @field_validator("run_id")
    @classmethod
    def _run(cls, value: str) -> str:
        return tag_value(value, "it is the StackRun tag's value")

    @field_validator("expires_at")
    @classmethod
    def _expiry(cls, value: str) -> str:
        try:
            if not EXPIRES_AT.fullmatch(value):
                raise ValueError(value)
            datetime.datetime.strptime(value, EXPIRES_AT_FORMAT)
        except ValueError:
            raise broken("is not a UTC time like 2026-11-30T01:00:00Z (the ExpiresAt tag, "
                         "compared as text by the expiry sweep)") from None
        return value
