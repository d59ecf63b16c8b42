"""Name and identifier rules: DNS names for ACM and CloudFront, ARNs, S3's reserved names.

Each ``*_problem`` returns None for a good value, else the rule it breaks with the AWS
limit, phrased to follow "setting=value:".
"""
from __future__ import annotations

import re
from typing import NamedTuple

from stack.config.aws_limits import (ACM_FIRST_NAME_MAX, DNS_LABEL_MAX, DNS_NAME_MAX,
                                     S3_RESERVED_PREFIXES, S3_RESERVED_SUFFIXES)

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_TOP_LABEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]+")
_ACM_ARN = re.compile(r"arn:aws:acm:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):certificate/"
                      r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
ACCOUNT_ID = re.compile(r"\d{12}")
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")
ENVIRONMENT = re.compile(r"[a-z][a-z0-9]{0,9}")
TAG_VALUE = re.compile(r"[\w .:/=+\-@]+")
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+")
DB_INSTANCE_CLASS = re.compile(r"db\.[a-z0-9]+\.[a-z0-9]+")


def dns_name_problem(name: str, *, first_name_of_certificate: bool = False) -> str | None:
    """A lowercase DNS name within DNS's limits (and ACM's, for a certificate's CN)."""
    labels = name.split(".")
    long_label = next((label for label in labels if len(label) > DNS_LABEL_MAX), None)
    if long_label is not None:
        return (f"has a label of {len(long_label)} characters ({long_label[:16]}...); "
                f"DNS allows {DNS_LABEL_MAX} per label")
    if len(name) > DNS_NAME_MAX:
        return f"is {len(name)} characters; a DNS name may have {DNS_NAME_MAX}"
    if (len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels)
            or not _TOP_LABEL.fullmatch(labels[-1])):
        return "is not a lowercase DNS name such as pay.example.com"
    if first_name_of_certificate and len(name) > ACM_FIRST_NAME_MAX:
        return (f"is {len(name)} characters; ACM allows {ACM_FIRST_NAME_MAX} for a "
                "certificate's first name (its common name)")
    return None


class CertificateArn(NamedTuple):
    region: str
    account: str


def parse_certificate_arn(arn: str) -> CertificateArn | None:
    match = _ACM_ARN.fullmatch(arn)
    return CertificateArn(match["region"], match["account"]) if match else None


def certificate_arn_problem(arn: str) -> str | None:
    if parse_certificate_arn(arn) is None:
        return ("is not an ACM certificate ARN like arn:aws:acm:us-east-1:111122223333:"
                "certificate/<uuid>")
    return None


def reserved_s3_affix(bucket: str) -> str | None:
    """The reserved prefix or suffix ``bucket`` has, described, or None."""
    for prefix in S3_RESERVED_PREFIXES:
        if bucket.startswith(prefix):
            return f"starts with {prefix!r}"
    for suffix in S3_RESERVED_SUFFIXES:
        if bucket.endswith(suffix):
            return f"ends with {suffix!r}"
    return None
