"""Renders the launch template's user data: the one place that knows how the instance
application (app/platform_app, installed by app/deploy/install.sh) reaches an instance.

The script has two parts. The plain part holds everything that may be a Terraform token
(secret ARN, DB endpoint, log group): an env file and the CloudWatch agent config, which
Terraform fills in before compute.py's base64encode. The payload is a deterministic
tar.xz of the application, its hash-pinned requirements and its installer, base64 in a
heredoc: it never holds a token, so compressing it is safe. EC2 caps user data at 16 KB
before base64; ``render_user_data`` refuses to render more.
"""
from __future__ import annotations

import ast
import base64
import functools
import io
import json
import lzma
import pathlib
import re
import tarfile
import tokenize
from dataclasses import dataclass
from typing import Any, cast

from stack.context import APP_PORT

APP_ROOT = pathlib.Path(__file__).resolve().parent.parent / "app"
USER_DATA_LIMIT_BYTES = 16 * 1024
APP_LOG_FILE = "/var/log/platform-app/app.log"
USER_DATA_LOG_FILE = "/var/log/platform-app/user-data.log"
CA_BUNDLE_PATH = "/etc/platform-app/rds-global-bundle.pem"
EMF_ENDPOINT = "udp://127.0.0.1:25888"   # the CloudWatch agent's EMF listener default
_PAYLOAD_GLOBS = ("platform_app/*.py", "requirements-instance.txt", "deploy/*")


class UserDataError(ValueError):
    """The user data cannot be rendered as asked; the message says what to change."""


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
    health_cache_seconds: float = 2.0


def payload_files() -> dict[str, bytes]:
    """Archive name -> content of everything the instance installs, from the repository."""
    files = {}
    for pattern in _PAYLOAD_GLOBS:
        for path in sorted(APP_ROOT.glob(pattern)):
            if path.is_file():
                files[path.relative_to(APP_ROOT).as_posix()] = path.read_bytes()
    if "platform_app/wsgi.py" not in files or "deploy/install.sh" not in files:
        raise UserDataError(f"the application is missing under {APP_ROOT}: expected "
                            "platform_app/wsgi.py and deploy/install.sh")
    return files


def shipped_files() -> dict[str, bytes]:
    """What lands on the instance: the repository's files without comments and docstrings.

    Only those are dropped, to stay inside 16 KB: every line keeps its number (tracebacks
    and $LINENO point at the repository's lines) and each module's AST is the repository's
    with empty docstrings, which tests/unit/test_userdata.py checks.
    """
    return {name: (_strip_python(content) if name.endswith(".py") else _strip_lines(content))
            for name, content in payload_files().items()}


def build_payload() -> bytes:
    """A byte-identical tar.xz for identical sources, so a synth shows no spurious diff."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, content in shipped_files().items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(content))
    return _xz(raw.getvalue())


# Keyed by content, so a changed file is never served stale: a synth renders three stacks
# and the unit tests rebuild the payload several times; each compress costs ~0.1 s.
@functools.lru_cache(maxsize=8)
def _xz(data: bytes) -> bytes:
    return lzma.compress(data, preset=9 | lzma.PRESET_EXTREME)


@functools.lru_cache(maxsize=128)
def _strip_python(content: bytes) -> bytes:
    tokens = [t for t in tokenize.tokenize(io.BytesIO(content).readline)
              if t.type != tokenize.COMMENT]
    # tokenize() opened with an ENCODING token, so untokenize() gives bytes back.
    return _blank_docstrings(_rstrip_lines(cast(bytes, tokenize.untokenize(tokens))))


def _blank_docstrings(content: bytes) -> bytes:
    """Each docstring becomes an empty one spanning the same lines."""
    lines = content.decode("utf-8").split("\n")
    spans: list[tuple[int, int, int, int]] = []
    for node in ast.walk(ast.parse(content)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                    and first.end_lineno is not None and first.end_col_offset is not None):
                spans.append((first.lineno, first.col_offset, first.end_lineno,
                              first.end_col_offset))
    for start, col, end, end_col in sorted(spans, reverse=True):
        empty = '"""' + "\n" * (end - start) + '"""'
        lines[start - 1:end] = (lines[start - 1][:col] + empty + lines[end - 1][end_col:]
                                ).split("\n")
    return "\n".join(lines).encode("utf-8")


def _strip_lines(content: bytes) -> bytes:
    """Full-line comments of shell, unit and logrotate files (not the shebang)."""
    lines = content.split(b"\n")
    return b"\n".join(b"" if line.lstrip().startswith(b"#") and not line.startswith(b"#!")
                      else line for line in lines)


def _rstrip_lines(content: bytes) -> bytes:
    return b"\n".join(line.rstrip() for line in content.split(b"\n"))


def app_env(settings: UserDataSettings) -> dict[str, str]:
    """What platform_app.config.Settings reads (INSTANCE_ID comes from IMDSv2 at boot)."""
    return {
        "APP_ENVIRONMENT": settings.environment,
        "AWS_REGION": settings.region,
        "AWS_DEFAULT_REGION": settings.region,
        # botocore must not fall back to IMDSv1 for the instance role's credentials.
        "AWS_EC2_METADATA_V1_DISABLED": "true",
        "DB_SECRET_ARN": settings.secret_arn,
        "DB_HOST": settings.db_host,
        "DB_PORT": str(settings.db_port),
        "DB_CA_BUNDLE": CA_BUNDLE_PATH,
        "HEALTH_CACHE_SECONDS": f"{settings.health_cache_seconds:g}",
        "STATIC_PATH": settings.static_path,
        "METRICS_NAMESPACE": settings.metrics_namespace,
        "METRICS_ENDPOINT": EMF_ENDPOINT,
        "APP_LOG_GROUP": settings.app_log_group,
        "APP_BIND": f"0.0.0.0:{APP_PORT}",
    }


def agent_config(settings: UserDataSettings) -> dict[str, Any]:
    """CloudWatch agent: ship the app's JSON log and the user-data log, accept EMF."""
    def stream(path: str, name: str) -> dict[str, str]:
        return {"file_path": path, "log_group_name": settings.app_log_group,
                "log_stream_name": "{instance_id}/" + name, "timezone": "UTC"}
    return {
        "agent": {"region": settings.region},
        "logs": {
            "logs_collected": {"files": {"collect_list": [
                stream(APP_LOG_FILE, "app"), stream(USER_DATA_LOG_FILE, "user-data")]}},
            "metrics_collected": {"emf": {}},
            "force_flush_interval": 5,
        },
    }


def render_user_data(settings: UserDataSettings) -> str:
    """The plain shell script (Terraform tokens allowed); compute.py base64-encodes it."""
    env = app_env(settings)
    for key, value in env.items():
        if not value or re.search(r"[\s'\"\\`]", value) or (
                "$" in value and not _is_token(value)):
            raise UserDataError(f"{key}={value!r}: env-file values must be non-empty, without "
                                "spaces, quotes, backslashes or $ (except a Terraform token)")
    payload = base64.encodebytes(build_payload()).decode("ascii")
    script = _TEMPLATE.format(
        env="".join(f"{k}={v}\n" for k, v in env.items()),
        agent=json.dumps(agent_config(settings), sort_keys=True),
        payload=payload, log=USER_DATA_LOG_FILE)
    size = len(script.encode())
    if size > USER_DATA_LIMIT_BYTES:
        raise UserDataError(f"user data is {size} bytes; EC2 allows {USER_DATA_LIMIT_BYTES}. "
                            "Shrink app/ or ship the payload through S3")
    return script


def _is_token(value: str) -> bool:
    return bool(re.fullmatch(r"(\$\{[^}]+\})+", value))


# No "${" or "%{" may appear below: Terraform would read them as interpolation.
_TEMPLATE = """#!/bin/bash
# Installs the platform's instance application (app/ in the infrastructure repository).
# Safe to re-run: sudo bash /var/lib/cloud/instance/user-data.txt
set -euo pipefail
umask 022
R=$(printenv PLATFORM_ROOT || true)
mkdir -p "$R/etc/platform-app" "$R/var/log/platform-app"
exec > >(tee -a "$R{log}") 2>&1
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) platform-app user data start"
cat >"$R/etc/platform-app/app.env" <<'PLATFORM_ENV'
{env}PLATFORM_ENV
cat >"$R/etc/platform-app/cloudwatch-agent.json" <<'PLATFORM_AGENT'
{agent}
PLATFORM_AGENT
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
base64 -d >"$WORK/app.tar.xz" <<'PLATFORM_PAYLOAD'
{payload}PLATFORM_PAYLOAD
# The OS's own python3 (dnf's) unpacks: tar's xz support is not in every image.
python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \\
  "$WORK/app.tar.xz" "$WORK"
bash "$WORK/deploy/install.sh" "$WORK"
"""
