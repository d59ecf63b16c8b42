"""Renders the launch template's user data: the one place that knows how the instance
application is installed. (Owned by the instance-application work; see README.)"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UserDataSettings:
    region: str
    secret_arn: str          # may be a Terraform token string
    db_host: str             # cluster writer endpoint, may be a token
    db_port: int
    app_log_group: str
    metrics_namespace: str
    static_path: str         # CloudFront path prefix of static assets, e.g. "/static/"
    environment: str


def render_user_data(settings: UserDataSettings) -> str:
    """The plain shell script (Terraform tokens allowed); compute.py base64-encodes it."""
    return "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        f"# placeholder until the instance application lands: {settings.environment}",
        "",
    ])
