"""The StackConfig a run deploys: built once from the config file, the suffix and the target;
in the sandbox, completed with the endpoint and the certificate once they exist.

The sandbox settings are only ever added here. Until the sandbox is up and its certificate
imported, syntactically valid placeholders stand in for them, so that the whole config
(suffix limits, the file's settings) is checked before anything is created.
"""
from __future__ import annotations

from typing import Any

from stack.config import (ConfigError, StackConfig, config_from_mapping, config_to_mapping,
                          read_config_file)

from harness.errors import HarnessError
from harness.options import Options

PLACEHOLDER_CERT_ARN = ("arn:aws:acm:us-east-1:123456789012:certificate/"
                        "00000000-0000-0000-0000-000000000000")
SANDBOX_ENDPOINT_PLACEHOLDER = "http://127.0.0.1:5000"


def planned_config(opts: Options, run_id: str = "") -> StackConfig:
    """The config to deploy, validated: the file's settings, this run's suffix and run tags,
    and in the sandbox the endpoint (``--sandbox-endpoint`` or a placeholder) and a
    placeholder certificate."""
    try:
        data = read_config_file(opts.config_file) if opts.config_file else {}
    except ConfigError as exc:
        raise HarnessError(f"--stack-config: {exc}") from None
    data["environment_suffix"] = opts.suffix
    if run_id and opts.expires_at:
        data["run"] = {"run_id": run_id, "expires_at": opts.expires_at}
    if opts.is_sandbox:
        data["sandbox"] = {"endpoint": opts.sandbox_endpoint or SANDBOX_ENDPOINT_PLACEHOLDER}
        data["tls"] = {"certificate_arn": PLACEHOLDER_CERT_ARN}
        # The sandbox is not an account: the production allow-list would refuse moto's id.
        data["allowed_account_ids"] = []
    else:
        if data.get("sandbox") is not None:
            raise HarnessError(f"--stack-config {opts.config_file} has a 'sandbox' section; "
                               "remove it to deploy to --stack-target aws")
        if not data.get("allowed_account_ids"):
            raise HarnessError(
                "--stack-target aws needs allowed_account_ids in --stack-config (the accounts "
                "this harness may deploy into); without it a job could deploy into production")
    return _validated(data, opts)


def sandbox_config(planned: StackConfig, opts: Options, endpoint: str,
                   certificate_arn: str) -> StackConfig:
    """``planned`` with the sandbox's real endpoint and imported certificate, both validated.

    Through the mapping rather than dataclasses.replace: the mapping functions are the
    config's public interface whatever class implements it, and they validate.
    """
    data = config_to_mapping(planned)
    data["sandbox"] = {"endpoint": endpoint}
    data["tls"] = {"certificate_arn": certificate_arn}
    return _validated(data, opts)


def _validated(data: dict[str, Any], opts: Options) -> StackConfig:
    try:
        return config_from_mapping(data)
    except ConfigError as exc:
        raise HarnessError(f"{exc}\n(settings come from --stack-config "
                           f"{opts.config_file or '(none)'} and --stack-suffix)") from None
