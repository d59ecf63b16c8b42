"""A moto server standing in for an AWS account, reached only through the SDKs' standard
endpoint settings (AWS_ENDPOINT_URL), so the aws-path code runs exactly as on a real account.
The server is moto's with one policy-evaluation rule put right (standin_server.py)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3

from harness import sandbox
from harness.aws_clients import AwsClients
from harness.sweep import leftovers

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # moto's account: what STS answers for any credentials
REGION = "us-east-1"
# Settings of the moto server, not of the aws path: AWS's managed IAM policies exist in every
# account (the stack attaches some), and a certificate is issued 1 s after its DNS validation
# records exist (moto's stand-in for ACM's DNS check waits 60 s by default).
SERVER_SETTINGS = {"MOTO_IAM_LOAD_MANAGED_POLICIES": "true", "MOTO_ACM_VALIDATION_WAIT": "1"}


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


    def leftovers(self, suffix: str) -> list[str]:
        """What carries ``suffix``, by the harness's own inventory (the sweeper's finder, the
        post-destroy check): a KMS key pending deletion, say, still has its tags but is gone."""
        check = leftovers(AwsClients(REGION, endpoint=self.endpoint), suffix)
        assert not check.unchecked, check.unchecked
        return [x.found.line() for x in check.leftovers]


def start(log: Path, wait: float = 60.0) -> Iterator[StandIn]:
    """The stand-in server (tests/component/standin_server.py) on a free loopback port, stopped
    when the generator closes."""
    port = sandbox.free_port()
    endpoint = f"http://{sandbox.HOST}:{port}"
    env = {**os.environ, **SERVER_SETTINGS}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        proc = subprocess.Popen([sys.executable, "-m", "tests.component.standin_server",
                                 "-H", sandbox.HOST, "-p", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + wait
        while not sandbox.is_up(endpoint, timeout=1):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the stand-in on {endpoint} did not answer within "
                                     f"{wait:.0f}s; see {log}")
            time.sleep(0.2)
        yield StandIn(endpoint, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def route53_style_zone(route53, domain: str) -> str:  # noqa: ANN001 - a boto3 client
    """A hosted zone for ``domain`` whose id has Route 53's form (Z + capitals and digits),
    which the config requires. moto draws ids at random from capitals and digits, so about one
    in 36 starts with Z: create until one does, delete the others."""
    for n in range(1000):
        zone = route53.create_hosted_zone(Name=domain, CallerReference=f"standin-{n}-{domain}")
        zone_id = zone["HostedZone"]["Id"].split("/")[-1]
        if zone_id.startswith("Z"):
            return zone_id
        route53.delete_hosted_zone(Id=zone_id)
    raise AssertionError("moto gave no Z-prefixed hosted zone id in 1000 tries")
