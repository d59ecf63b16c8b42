"""The AWS managed IAM policies the stack attaches. Its own module, free of the provider
bindings, so the harness's preflight can ask a sandbox for them without loading those."""
from __future__ import annotations

SSM_CORE_POLICY = "arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"

ATTACHED = (SSM_CORE_POLICY,)
