"""The settings, each with its default and its limit, and how they are loaded.

Every setting lives here, with its default and its limit. A StackConfig cannot be
constructed invalid: ``__post_init__`` collects every violation and raises one
ConfigError that names each setting and the limit it breaks, so nothing is synthesized.

Sources, in increasing precedence: the defaults below, a JSON file named by
``STACK_CONFIG`` (or ``--config``), then ``STACK_ENVIRONMENT`` and
``STACK_ENVIRONMENT_SUFFIX``. See the README's configuration table.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack.config.loopback import loopback_problem
from stack.naming import Naming, name_violations


class ConfigError(ValueError):
    """One or more settings are invalid; the message lists each with its limit."""


# AWS regions as of provider 5.100.0. An unknown name is a typo, not a new region.
KNOWN_REGIONS = frozenset(
    """us-east-1 us-east-2 us-west-1 us-west-2 af-south-1 ap-east-1 ap-south-1 ap-south-2
    ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-7
    ap-northeast-1 ap-northeast-2 ap-northeast-3 ca-central-1 ca-west-1 eu-central-1
    eu-central-2 eu-west-1 eu-west-2 eu-west-3 eu-south-1 eu-south-2 eu-north-1 il-central-1
    me-south-1 me-central-1 mx-central-1 sa-east-1""".split()
)
# CloudFront's WAF web ACL and its log group must live in us-east-1; the stack has one
# provider, so the whole stack does too.
SUPPORTED_REGIONS = frozenset({"us-east-1"})

# WAFv2 rate-based statement bounds (AWS API reference, RateBasedStatement.Limit).
WAF_RATE_LIMIT_MIN = 10
WAF_RATE_LIMIT_MAX = 2_000_000_000
# CloudWatch Logs accepts only these retention values.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)
# PCI DSS 10.5.1: keep audit logs 12 months, 3 months immediately available.
PCI_MIN_LOG_RETENTION_DAYS = 365

_ENV_RE = re.compile(r"^[a-z][a-z0-9]{0,9}$")
_SUFFIX_RE = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?!-))*$")
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ACM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$")
_ZONE_RE = re.compile(r"^Z[A-Z0-9]{1,31}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_TAG_VALUE_RE = re.compile(r"^[\w .:/=+\-@]{1,256}$")
_CRON_RE = re.compile(r"^\S+ \S+ \S+ \S+ \S+$")
_INSTANCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$")
_DB_CLASS_RE = re.compile(r"^db\.[a-z0-9]+\.[a-z0-9]+$")


@dataclass(frozen=True)
class Capacity:
    """Auto Scaling group sizes; business hours raise the floor to ``business_hours_min``."""
    min_size: int = 2
    desired: int = 3
    max_size: int = 6
    business_hours_min: int = 3
    scale_up_cpu_percent: int = 70
    scale_down_cpu_percent: int = 30


@dataclass(frozen=True)
class Schedule:
    """Business hours for the scheduled actions, as cron in ``time_zone``."""
    time_zone: str = "America/New_York"
    business_start: str = "0 8 * * MON-FRI"
    business_end: str = "0 18 * * MON-FRI"


@dataclass(frozen=True)
class NetworkPlan:
    vpc_cidr: str = "10.20.0.0/16"
    public_subnets: tuple[str, ...] = ("10.20.0.0/24", "10.20.1.0/24", "10.20.2.0/24")
    private_subnets: tuple[str, ...] = ("10.20.10.0/24", "10.20.11.0/24", "10.20.12.0/24")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class DatabaseSettings:
    instance_class: str = "db.r6g.large"
    engine_version: str = "8.0.mysql_aurora.3.08.2"
    backup_retention_days: int = 7
    backup_window: str = "03:00-04:00"
    maintenance_window: str = "sun:05:00-sun:06:00"
    deletion_protection: bool = False
    skip_final_snapshot: bool = True


@dataclass(frozen=True)
class SandboxSettings:
    """Only for the embedded moto sandbox: endpoints and test credentials in the provider.

    Never set for a real account; the production synth has no endpoint overrides.
    """
    endpoint: str = "http://127.0.0.1:5000"


@dataclass(frozen=True)
class StackConfig:
    environment_suffix: str
    environment: str = "dev"
    region: str = "us-east-1"
    application: str = "fintxn"
    cost_center: str = "CC-1001"
    instance_type: str = "t3.large"
    capacity: Capacity = field(default_factory=Capacity)
    schedule: Schedule = field(default_factory=Schedule)
    network: NetworkPlan = field(default_factory=NetworkPlan)
    tls: TlsSettings = field(default_factory=TlsSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    alert_emails: tuple[str, ...] = ()
    waf_rate_limit: int = 2000
    log_retention_days: int = 365
    rotation_days: int = 30
    allowed_account_ids: tuple[str, ...] = ()
    sandbox: SandboxSettings | None = None

    def __post_init__(self) -> None:
        problems = list(_violations(self))
        if problems:
            raise ConfigError("invalid stack configuration:\n  - " + "\n  - ".join(problems))

    @property
    def names(self) -> Naming:
        return Naming(self.environment, self.environment_suffix)

    @property
    def tags(self) -> dict[str, str]:
        return {"Environment": self.environment, "Application": self.application,
                "CostCenter": self.cost_center}


def is_suffix_shape(suffix: str) -> bool:
    """Lowercase letters, digits and single hyphens, not starting or ending with a hyphen:
    the one rule for an environment suffix (the config, the plugin's options, the sweeper)."""
    return bool(_SUFFIX_RE.match(suffix)) and not suffix.endswith("-")


def _violations(c: StackConfig):
    if not isinstance(c.environment, str) or not _ENV_RE.match(c.environment):
        yield (f"environment={c.environment!r}: 1-10 lowercase letters and digits, "
               "starting with a letter")
    suffix = c.environment_suffix
    if not isinstance(suffix, str) or not suffix:
        yield "environment_suffix is empty: give 1+ lowercase letters, digits or single hyphens"
    elif not is_suffix_shape(suffix):
        yield (f"environment_suffix={suffix!r}: only lowercase letters, digits and single "
               "hyphens, not starting or ending with a hyphen")
    elif _ENV_RE.match(c.environment or ""):
        yield from name_violations(c.names)

    if c.region not in KNOWN_REGIONS:
        yield f"region={c.region!r} is not an AWS region"
    elif c.region not in SUPPORTED_REGIONS:
        yield (f"region={c.region!r}: only us-east-1 is supported (CloudFront's WAF ACL and its "
               "logs must be in us-east-1 and the stack uses one provider)")
    for key in ("application", "cost_center"):
        value = getattr(c, key)
        if not isinstance(value, str) or not _TAG_VALUE_RE.match(value):
            yield f"{key}={value!r}: 1-256 characters of letters, digits, spaces and _.:/=+-@"
    if not isinstance(c.instance_type, str) or not _INSTANCE_TYPE_RE.match(c.instance_type):
        yield f"instance_type={c.instance_type!r} is not an EC2 instance type such as t3.large"

    yield from _capacity_violations(c.capacity)
    yield from _schedule_violations(c.schedule)
    yield from _network_violations(c.network)
    yield from _tls_violations(c.tls, c.sandbox)
    yield from _database_violations(c.database)

    if isinstance(c.alert_emails, (str, bytes)) or not isinstance(c.alert_emails, (tuple, list)):
        yield "alert_emails must be a list of e-mail addresses"
    else:
        for email in c.alert_emails:
            if not isinstance(email, str) or not _EMAIL_RE.match(email):
                yield f"alert_emails: {email!r} is not an e-mail address"
    if (not isinstance(c.waf_rate_limit, int) or isinstance(c.waf_rate_limit, bool)
            or not WAF_RATE_LIMIT_MIN <= c.waf_rate_limit <= WAF_RATE_LIMIT_MAX):
        yield (f"waf_rate_limit={c.waf_rate_limit!r}: WAF allows "
               f"{WAF_RATE_LIMIT_MIN}..{WAF_RATE_LIMIT_MAX} requests per 5 minutes")
    if c.log_retention_days not in LOG_RETENTION_DAYS:
        yield (f"log_retention_days={c.log_retention_days!r}: CloudWatch accepts only "
               f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
    elif c.log_retention_days < PCI_MIN_LOG_RETENTION_DAYS:
        yield (f"log_retention_days={c.log_retention_days}: PCI DSS 10.5.1 needs at least "
               f"{PCI_MIN_LOG_RETENTION_DAYS}")
    if not isinstance(c.rotation_days, int) or not 1 <= c.rotation_days <= 90:
        yield (f"rotation_days={c.rotation_days!r}: 1..90 (PCI DSS 8.3.9 asks for at most 90; "
               "Secrets Manager allows 1..1000)")
    for account in c.allowed_account_ids:
        if not isinstance(account, str) or not _ACCOUNT_RE.match(account):
            yield f"allowed_account_ids: {account!r} is not a 12-digit AWS account id"
    if c.sandbox is not None:
        yield from _sandbox_violations(c.sandbox)


def _capacity_violations(cap: Capacity):
    sizes = (cap.min_size, cap.desired, cap.max_size, cap.business_hours_min)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in sizes):
        yield "capacity: min_size, desired, max_size and business_hours_min must be integers"
        return
    if cap.min_size < 1:
        yield f"capacity.min_size={cap.min_size}: at least 1 (the ALB needs a target)"
    if not cap.min_size <= cap.desired <= cap.max_size:
        yield (f"capacity: need min_size <= desired <= max_size, got {cap.min_size} <= "
               f"{cap.desired} <= {cap.max_size}")
    if cap.business_hours_min < 3:
        yield f"capacity.business_hours_min={cap.business_hours_min}: at least 3 (one per AZ)"
    if cap.business_hours_min > cap.max_size:
        yield (f"capacity.business_hours_min={cap.business_hours_min} exceeds "
               f"max_size={cap.max_size}")
    if cap.max_size > 100:
        yield f"capacity.max_size={cap.max_size}: at most 100 for this platform"
    if not 0 < cap.scale_down_cpu_percent < cap.scale_up_cpu_percent < 100:
        yield (f"capacity: need 0 < scale_down_cpu_percent < scale_up_cpu_percent < 100, got "
               f"{cap.scale_down_cpu_percent} and {cap.scale_up_cpu_percent}")


def _schedule_violations(s: Schedule):
    try:
        from zoneinfo import ZoneInfo
        ZoneInfo(s.time_zone)
    except Exception:
        yield f"schedule.time_zone={s.time_zone!r} is not an IANA time zone"
    for key in ("business_start", "business_end"):
        value = getattr(s, key)
        if not isinstance(value, str) or not _CRON_RE.match(value):
            yield f"schedule.{key}={value!r}: a 5-field cron expression such as '0 8 * * MON-FRI'"


def _network_violations(n: NetworkPlan):
    try:
        vpc = ipaddress.ip_network(n.vpc_cidr, strict=True)
    except (ValueError, TypeError) as exc:
        yield f"network.vpc_cidr={n.vpc_cidr!r} is not a CIDR block: {exc}"
        return
    if vpc.version != 4 or not 16 <= vpc.prefixlen <= 24:
        yield f"network.vpc_cidr={n.vpc_cidr}: an IPv4 block from /16 to /24 (the VPC limit)"
        if vpc.version != 4:
            return  # subnets cannot be compared with an IPv6 block
    subnets = []
    for tier in ("public_subnets", "private_subnets"):
        cidrs = getattr(n, tier)
        if len(cidrs) != 3:
            yield f"network.{tier}: exactly 3 CIDR blocks (one per AZ), got {len(cidrs)}"
        for cidr in cidrs:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except (ValueError, TypeError) as exc:
                yield f"network.{tier}: {cidr!r} is not a CIDR block: {exc}"
                continue
            if net.version != 4 or not net.subnet_of(vpc):
                yield f"network.{tier}: {cidr} is not inside vpc_cidr {vpc}"
            elif not 16 <= net.prefixlen <= 28:
                yield f"network.{tier}: {cidr} must be /16 to /28 (the subnet limit)"
            subnets.append((tier, net))
    for i, (tier_a, a) in enumerate(subnets):
        for tier_b, b in subnets[i + 1:]:
            if a.overlaps(b):
                yield f"network: {tier_a} {a} overlaps {tier_b} {b}"


def _tls_violations(t: TlsSettings, sandbox: SandboxSettings | None):
    if t.domain_name is not None and not _DOMAIN_RE.match(t.domain_name):
        yield f"tls.domain_name={t.domain_name!r} is not a lowercase DNS name"
    if t.origin_domain_name is not None and not _DOMAIN_RE.match(t.origin_domain_name):
        yield f"tls.origin_domain_name={t.origin_domain_name!r} is not a lowercase DNS name"
    if t.hosted_zone_id is not None and not _ZONE_RE.match(t.hosted_zone_id):
        yield f"tls.hosted_zone_id={t.hosted_zone_id!r} is not a Route 53 zone id (Z...)"
    if t.certificate_arn is not None and not _ACM_ARN_RE.match(t.certificate_arn):
        yield f"tls.certificate_arn={t.certificate_arn!r} is not an ACM certificate ARN"
    if (t.domain_name is None) != (t.hosted_zone_id is None):
        yield "tls: domain_name and hosted_zone_id go together (DNS-validated certificates)"
    if t.domain_name and t.certificate_arn:
        yield "tls: set either domain_name + hosted_zone_id or certificate_arn, not both"
    if not t.domain_name and not t.certificate_arn:
        yield ("tls: the HTTPS listener needs a certificate: set domain_name + hosted_zone_id "
               "or certificate_arn")
    if t.certificate_arn and not t.origin_domain_name and sandbox is None:
        yield ("tls.origin_domain_name: with certificate_arn, name the origin host the "
               "certificate covers (a DNS name you point at the ALB); CloudFront verifies it")


def _database_violations(d: DatabaseSettings):
    if not _DB_CLASS_RE.match(d.instance_class or ""):
        yield f"database.instance_class={d.instance_class!r} is not an RDS class like db.r6g.large"
    if not str(d.engine_version).startswith("8.0.mysql_aurora.3."):
        yield (f"database.engine_version={d.engine_version!r}: Aurora MySQL 8.0 "
               "(8.0.mysql_aurora.3.x)")
    if not isinstance(d.backup_retention_days, int) or not 7 <= d.backup_retention_days <= 35:
        yield (f"database.backup_retention_days={d.backup_retention_days!r}: 7..35 "
               "(7-day point-in-time recovery at least)")
    window = re.compile(r"^\d\d:\d\d-\d\d:\d\d$")
    if not window.match(d.backup_window or ""):
        yield f"database.backup_window={d.backup_window!r}: hh24:mi-hh24:mi in UTC"
    if not re.match(r"^[a-z]{3}:\d\d:\d\d-[a-z]{3}:\d\d:\d\d$", d.maintenance_window or ""):
        yield f"database.maintenance_window={d.maintenance_window!r}: ddd:hh24:mi-ddd:hh24:mi"


def _sandbox_violations(s: SandboxSettings):
    problem = loopback_problem(s.endpoint)
    if problem:
        yield f"sandbox.endpoint={s.endpoint!r}: {problem}"


# ---------------------------------------------------------------- loading

_NESTED = {"capacity": Capacity, "schedule": Schedule, "network": NetworkPlan,
           "tls": TlsSettings, "database": DatabaseSettings, "sandbox": SandboxSettings}
_TUPLES = {"alert_emails", "allowed_account_ids"}


def config_from_mapping(data: Mapping[str, Any]) -> StackConfig:
    """Build a StackConfig from plain data (a parsed JSON file), rejecting unknown keys."""
    known = {f.name for f in dataclasses.fields(StackConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in _NESTED and value is not None:
            cls = _NESTED[key]
            if not isinstance(value, Mapping):
                raise ConfigError(f"{key} must be an object with keys "
                                  f"{', '.join(f.name for f in dataclasses.fields(cls))}")
            fields = {f.name for f in dataclasses.fields(cls)}
            bad = sorted(set(value) - fields)
            if bad:
                raise ConfigError(f"unknown setting(s) {', '.join(key + '.' + b for b in bad)}")
            value = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        elif key in _TUPLES and isinstance(value, list):
            value = tuple(value)
        kwargs[key] = value
    if "environment_suffix" not in kwargs:
        raise ConfigError("environment_suffix is required (STACK_ENVIRONMENT_SUFFIX or the config file)")
    try:
        return StackConfig(**kwargs)
    except TypeError as exc:
        raise ConfigError(str(exc)) from None


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object in ``path``; ConfigError says what is wrong with the file."""
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    return data


def load_config(path: str | os.PathLike | None = None,
                environ: Mapping[str, str] | None = None,
                **overrides: Any) -> StackConfig:
    """Defaults < JSON file (``path`` or $STACK_CONFIG) < environment < keyword overrides."""
    environ = os.environ if environ is None else environ
    path = path or environ.get("STACK_CONFIG")
    data = read_config_file(path) if path else {}
    for env_key, key in (("STACK_ENVIRONMENT", "environment"),
                         ("STACK_ENVIRONMENT_SUFFIX", "environment_suffix")):
        if environ.get(env_key):
            data[key] = environ[env_key]
    data.update(overrides)
    return config_from_mapping(data)


def config_to_mapping(cfg: StackConfig) -> dict[str, Any]:
    """The inverse of config_from_mapping, for writing a deployment's config to disk."""
    return json.loads(json.dumps(dataclasses.asdict(cfg)))
