"""A moto server standing in for an AWS account, reached only through the SDKs' standard
endpoint settings (AWS_ENDPOINT_URL), so the aws-path code runs exactly as on a real account."""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3

from harness import sandbox

ACCOUNT = "123456789012"  # moto's account: what STS answers for any credentials
REGION = "us-east-1"


@dataclass(frozen=True)
class StandIn:
    endpoint: str
    pid: int

    def env(self) -> dict[str, str]:
        """The standard settings a CI job would set for a real account, pointed at moto."""
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "standin",
                "AWS_SECRET_ACCESS_KEY": "standin", "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION}

    def client(self, service: str):  # noqa: ANN201 - a boto3 client
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="standin", aws_secret_access_key="standin")

    def bucket(self, name: str) -> str:
        self.client("s3").create_bucket(Bucket=name)
        return name

    def tagged(self, key: str, value: str) -> dict[str, dict[str, str]]:
        """ARN -> tags of everything carrying ``key=value``, read through the tagging API."""
        pages = self.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate(
            TagFilters=[{"Key": key, "Values": [value]}])
        return {r["ResourceARN"]: {t["Key"]: t["Value"] for t in r["Tags"]}
                for page in pages for r in page["ResourceTagMappingList"]}


def start(log: Path) -> Iterator[StandIn]:
    endpoint, pid = sandbox.start(log)  # sets MOTO_IAM_LOAD_MANAGED_POLICIES=true
    try:
        yield StandIn(endpoint, pid)
    finally:
        sandbox.stop(pid)


def production_config(path: Path) -> Path:
    """Production-shaped: domain mode and the stand-in's account as the only allowed one."""
    path.write_text(json.dumps({
        "environment": "ci",
        "tls": {"domain_name": "pay.example.com", "hosted_zone_id": "Z0123456789ABCDEFGHIJ"},
        "allowed_account_ids": [ACCOUNT]}))
    return path
