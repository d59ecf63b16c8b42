"""What the tests and operators read back after a deploy: one place, one name each.

``StackOutputs`` is the contract: stack/main.py fills it with the constructs' attributes
and ``publish`` writes one Terraform output per field; the harness reads the deployed values
back into the same class (``from_terraform``), so an output that one side has and the other
does not is an error naming it, not a KeyError in some test.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # cdktf costs seconds to import; the harness imports this module
    from constructs import Construct


class OutputsError(ValueError):
    """The deployed outputs do not match StackOutputs; the message names each difference."""


@dataclass(frozen=True)
class StackOutputs:
    """Every output of the platform stack (all strings; Terraform tokens at synth time)."""
    environment: str
    suffix: str
    cloudfront_domain_name: str
    cloudfront_distribution_id: str
    alb_arn: str
    alb_dns_name: str
    target_group_arn: str
    static_bucket_name: str
    logs_bucket_name: str
    db_secret_arn: str
    asg_name: str
    launch_template_id: str
    db_cluster_identifier: str
    db_cluster_endpoint: str
    db_reader_endpoint: str
    web_acl_arn: str
    sns_topic_arn: str
    app_log_group_name: str
    rotation_log_group_name: str
    flow_log_group_name: str
    waf_log_group_name: str
    rotation_lambda_name: str
    vpc_id: str

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_terraform(cls, values: Mapping[str, Any]) -> StackOutputs:
        """The outputs of a deployed stack (``{name: value}``), checked against the contract."""
        expected = set(cls.names())
        problems = []
        missing = sorted(expected - set(values))
        if missing:
            problems.append(f"missing {', '.join(missing)}")
        extra = sorted(set(values) - expected)
        if extra:
            problems.append(f"not declared {', '.join(extra)}")
        not_text = sorted(k for k in expected & set(values) if not isinstance(values[k], str))
        if not_text:
            problems.append(f"not a string: {', '.join(not_text)}")
        if problems:
            raise OutputsError(
                "the deployed outputs do not match stack.outputs.StackOutputs: "
                + "; ".join(problems) + ". Declare each output in StackOutputs and fill it in "
                "stack/main.py (publish writes exactly those), then deploy again")
        return cls(**{name: values[name] for name in cls.names()})


def publish(scope: Construct, outputs: StackOutputs) -> None:
    from cdktf import TerraformOutput
    for name in StackOutputs.names():
        TerraformOutput(scope, name, value=getattr(outputs, name))
