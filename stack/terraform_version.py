"""The oldest terraform that reads the synthesized JSON, declared once.

Ephemeral resources and write-only arguments (the database password never enters the state)
arrived in Terraform 1.11. The stack states it as ``terraform.required_version``; bin/setup
and the harness's preflight refuse an older binary with this number (harness.terraform).
"""
from __future__ import annotations

MIN_TERRAFORM = (1, 11)
MIN_TERRAFORM_TEXT = ".".join(map(str, MIN_TERRAFORM))
REQUIRED_VERSION = f">= {MIN_TERRAFORM_TEXT}"
