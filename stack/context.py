"""Values every construct shares: the config, names, tags, ports, the account it lands in.

The ports and header names below are declared here only. This module imports cdktf only
inside ``build_context``: stack/userdata.py (loaded by the unit tests, which never import
cdktf) takes APP_PORT from here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stack.config import StackConfig
from stack.naming import Naming

if TYPE_CHECKING:
    from constructs import Construct

AZ_COUNT = 3
APP_PORT = 8080
DB_PORT = 3306
ORIGIN_HEADER = "X-Origin-Verify"
STATIC_PATH = "/static/"


@dataclass(frozen=True)
class StackContext:
    cfg: StackConfig
    names: Naming
    account_id: str
    partition: str
    az_names: tuple[str, ...]

    @property
    def region(self) -> str:
        return self.cfg.region

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:{self.partition}:{service}:{where}:{self.account_id}:{resource}"

    def name_tag(self, rtype: str) -> dict[str, str]:
        return {"Name": self.names.of(rtype)}


def build_context(scope: Construct, cfg: StackConfig) -> StackContext:
    from cdktf import Fn
    from cdktf_cdktf_provider_aws.data_aws_availability_zones import DataAwsAvailabilityZones
    from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
    from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
    identity = DataAwsCallerIdentity(scope, "caller")
    partition = DataAwsPartition(scope, "partition")
    azs = DataAwsAvailabilityZones(scope, "azs", state="available")
    return StackContext(
        cfg=cfg, names=cfg.names, account_id=identity.account_id,
        partition=partition.partition,
        az_names=tuple(Fn.element(azs.names, i) for i in range(AZ_COUNT)))


def policy(*statements: dict[str, Any]) -> str:
    """An IAM/KMS/S3 policy document; tokens inside strings resolve at synth."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}
