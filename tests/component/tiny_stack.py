"""The tiny Terraform stacks the harness's component tests deploy in place of the platform.

The platform's backend and provider pin, a few resources: seconds to apply instead of
minutes. Child pytest sessions import it from their conftest's synth hook (their
PYTHONPATH holds the checkout, tests/component/child_pytest.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.mirror import PROVIDER_VERSION

# As the platform's sandbox provider block (stack/providers.py): moto answers no credential,
# region or metadata checks, and serves S3 by path. No account lookup either: no tiny stack
# needs the account id.
SANDBOX_PROVIDER = {"skip_credentials_validation": True, "skip_metadata_api_check": "true",
                    "skip_region_validation": True, "skip_requesting_account_id": True,
                    "s3_use_path_style": True}


def write_stack(stack_config: Any, outdir: Path, resources: dict[str, Any],
                outputs: dict[str, Any], sandbox_services: tuple[str, ...] = (),
                **provider: Any) -> Path:
    """``outdir/cdk.tf.json`` with ``resources`` and ``outputs``, tagged with the config's tags.

    ``sandbox_services`` go to the sandbox endpoint (every service the stack calls); without
    them the provider block names no endpoint, as on the aws path, and the SDK's standard
    settings (AWS_ENDPOINT_URL...) decide. ``provider`` adds arguments to the provider block.
    """
    aws: dict[str, Any] = {"region": stack_config.region,
                           "default_tags": [{"tags": stack_config.tags}], **provider}
    if sandbox_services:
        endpoint = stack_config.sandbox.endpoint
        aws.update(SANDBOX_PROVIDER, endpoints=[{s: endpoint for s in sandbox_services}])
    doc = {
        "terraform": {"backend": {"local": {"path": "terraform.tfstate"}},
                      "required_providers": {"aws": {"source": "hashicorp/aws",
                                                     "version": PROVIDER_VERSION}}},
        "provider": {"aws": [aws]},
        "resource": resources,
        "output": outputs,
    }
    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / "cdk.tf.json"
    path.write_text(json.dumps(doc))
    return path
