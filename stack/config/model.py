"""StackConfig: every setting with its default and its limit, validated before any construct.

A StackConfig cannot be constructed invalid: pydantic checks every field strictly (bool is
not int, "3" is not 3, no unknown keys), runs the rules here and in ``sections``, collects
every problem, and the constructor raises one ConfigError that lists each (dotted path,
value, rule), so nothing is synthesized. Rules between settings read the settings declared
before them (``info.data``), so they are reported alongside the others.

Sources, in increasing precedence: the defaults below, a JSON file named by
``STACK_CONFIG`` (or ``--config``), then ``STACK_ENVIRONMENT`` and
``STACK_ENVIRONMENT_SUFFIX`` (``loading``). See the README's configuration table.
"""
from __future__ import annotations

import re
from typing import Annotated
from collections.abc import Callable

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from stack.config import aws_limits as aws
from stack.config.aws_names import (ACCOUNT_ID, EMAIL, ENVIRONMENT, INSTANCE_TYPE,
                                    parse_certificate_arn, reserved_s3_affix)
from stack.config.errors import broken, raises_config_error, register_sections
from stack.config.fields import STRICT, anchored, did_you_mean, hinted
from stack.config.sections import (Capacity, DatabaseSettings, NetworkPlan, RunTags,
                                   SandboxSettings, Schedule, TlsSettings, tag_value)
from stack.config.suffix import MIN_SUFFIX_LENGTH, SUFFIX_SHAPE, suffix_problem
from stack.naming import Naming, name_violations


def _matching(pattern: re.Pattern[str], rule: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise broken(rule)
        return value
    return check


Email = Annotated[str, AfterValidator(_matching(EMAIL, "is not an e-mail address"))]
AccountId = Annotated[str, AfterValidator(_matching(ACCOUNT_ID, "is not a 12-digit AWS account id"))]


@raises_config_error
@dataclass(frozen=True, config=STRICT)
class StackConfig:
    environment_suffix: str = Field(json_schema_extra={
        "pattern": anchored(SUFFIX_SHAPE), "minLength": MIN_SUFFIX_LENGTH})
    environment: str = hinted("dev", pattern=anchored(ENVIRONMENT))
    region: str = hinted("us-east-1", enum=sorted(aws.SUPPORTED_REGIONS))
    application: str = "fintxn"
    cost_center: str = "CC-1001"
    instance_type: str = "t3.large"
    capacity: Capacity = Field(default_factory=Capacity)
    schedule: Schedule = Field(default_factory=Schedule)
    network: NetworkPlan = Field(default_factory=NetworkPlan)
    tls: TlsSettings = Field(default_factory=TlsSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    alert_emails: tuple[Email, ...] = hinted((), uniqueItems=True)
    waf_rate_limit: int = hinted(2000, minimum=aws.WAF_RATE_LIMIT_MIN,
                                 maximum=aws.WAF_RATE_LIMIT_MAX)
    log_retention_days: int = hinted(365, enum=[d for d in aws.LOG_RETENTION_DAYS
                                                if d >= aws.PCI_MIN_LOG_RETENTION_DAYS])
    rotation_days: int = hinted(30, minimum=aws.ROTATION_DAYS_MIN,
                                maximum=aws.ROTATION_DAYS_MAX)
    allowed_account_ids: tuple[AccountId, ...] = hinted(
        (), items={"type": "string", "pattern": anchored(ACCOUNT_ID)})
    sandbox: SandboxSettings | None = None
    run: RunTags | None = None

    @property
    def names(self) -> Naming:
        return Naming(self.environment, self.environment_suffix)

    @property
    def tags(self) -> dict[str, str]:
        seed = {"Environment": self.environment, "Application": self.application,
                "CostCenter": self.cost_center}
        if self.run is None:
            return seed
        return {**seed, "StackSuffix": self.environment_suffix, "StackRun": self.run.run_id,
                "ExpiresAt": self.run.expires_at}

    @field_validator("environment_suffix")
    @classmethod
    def _suffix(cls, value: str) -> str:
        problem = suffix_problem(value)
        if problem:
            raise broken(problem if problem.startswith("is ") else ": " + problem)
        return value

    @field_validator("environment")
    @classmethod
    def _environment(cls, value: str, info: ValidationInfo) -> str:
        if not ENVIRONMENT.fullmatch(value):
            raise broken(": 1-10 lowercase letters and digits, starting with a letter")
        suffix = info.data.get("environment_suffix")
        if suffix is not None:
            names = Naming(value, suffix)
            for problem in name_violations(names):
                raise broken(problem, whole=True)
            for bucket in (names.static_bucket, names.logs_bucket):
                affix = reserved_s3_affix(bucket)
                if affix:
                    raise broken(f"environment_suffix={suffix!r} makes the S3 bucket name "
                                 f"{bucket!r}, which {affix}: S3 reserves it for its own "
                                 "features; choose another suffix", whole=True)
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in aws.KNOWN_REGIONS:
            raise broken("is not an AWS region" + did_you_mean(value, aws.KNOWN_REGIONS))
        if value not in aws.SUPPORTED_REGIONS:
            raise broken(f": only {', '.join(sorted(aws.SUPPORTED_REGIONS))} is supported "
                         "(CloudFront's WAF ACL and its logs must be in us-east-1 and the "
                         "stack uses one provider)")
        return value

    @field_validator("application", "cost_center")
    @classmethod
    def _tag_value(cls, value: str) -> str:
        return tag_value(value, "an AWS tag value")

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not INSTANCE_TYPE.fullmatch(value):
            raise broken("is not an EC2 instance type such as t3.large")
        return value

    @field_validator("tls")
    @classmethod
    def _tls(cls, value: TlsSettings, info: ValidationInfo) -> TlsSettings:
        if not value.domain_name and not value.certificate_arn:
            raise broken(": the HTTPS listener needs a certificate: set domain_name + "
                         "hosted_zone_id or certificate_arn", show_value=False)
        arn = parse_certificate_arn(value.certificate_arn or "")
        region = info.data.get("region")
        if arn and region and arn.region != region:
            raise broken(f"tls.certificate_arn={value.certificate_arn!r} is in {arn.region}, "
                         f"but the ALB is in region {region}: an ALB can only use an ACM "
                         "certificate from its own region", whole=True)
        return value

    @field_validator("alert_emails")
    @classmethod
    def _distinct_emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        repeated = sorted({e for e in value if value.count(e) > 1})
        if repeated:
            raise broken(f": {', '.join(repeated)} more than once (SNS keeps one subscription "
                         "per address, so two would fight over it)")
        return value

    @field_validator("waf_rate_limit")
    @classmethod
    def _waf(cls, value: int) -> int:
        if not aws.WAF_RATE_LIMIT_MIN <= value <= aws.WAF_RATE_LIMIT_MAX:
            raise broken(f": WAF allows {aws.WAF_RATE_LIMIT_MIN}..{aws.WAF_RATE_LIMIT_MAX} "
                         "requests per 5 minutes (RateBasedStatement limit)")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _log_retention(cls, value: int) -> int:
        if value not in aws.LOG_RETENTION_DAYS:
            raise broken(": CloudWatch accepts only "
                         f"{', '.join(map(str, aws.LOG_RETENTION_DAYS))}")
        if value < aws.PCI_MIN_LOG_RETENTION_DAYS:
            raise broken(f": PCI DSS 10.5.1 needs at least {aws.PCI_MIN_LOG_RETENTION_DAYS}")
        return value

    @field_validator("rotation_days")
    @classmethod
    def _rotation(cls, value: int) -> int:
        if not aws.ROTATION_DAYS_MIN <= value <= aws.ROTATION_DAYS_MAX:
            raise broken(f": {aws.ROTATION_DAYS_MIN}..{aws.ROTATION_DAYS_MAX} (PCI DSS 8.3.9 "
                         f"asks for at most 90; Secrets Manager allows 1.."
                         f"{aws.SECRETS_MANAGER_ROTATION_MAX})")
        return value

    @field_validator("sandbox")
    @classmethod
    def _origin_named(cls, value: SandboxSettings | None,
                      info: ValidationInfo) -> SandboxSettings | None:
        tls = info.data.get("tls")
        if value is None and tls is not None and tls.certificate_arn and not tls.origin_domain_name:
            raise broken(": with certificate_arn, name the origin host the certificate covers "
                         "(a DNS name you point at the ALB); CloudFront verifies it",
                         setting="tls.origin_domain_name", show_value=False)
        return value


register_sections(StackConfig)
