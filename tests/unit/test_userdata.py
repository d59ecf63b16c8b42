"""The launch template's user data: rendered, then run for real (twice) under a scratch
root with the instance-only commands (dnf, systemctl, IMDS, pip) replaced by recorders."""
from __future__ import annotations

import ast
import base64
import hashlib
import importlib.metadata
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from stack.userdata import (APP_ROOT, USER_DATA_LIMIT_BYTES, UserDataError, UserDataSettings,
                            agent_config, app_env, build_payload, payload_files,
                            render_user_data, shipped_files)

pytestmark = pytest.mark.unit

SECRET_TOKEN = "${aws_secretsmanager_secret.db_credentials.arn}"
HOST_TOKEN = "${aws_rds_cluster.aurora.endpoint}"
SETTINGS = UserDataSettings(
    region="us-east-1", secret_arn=SECRET_TOKEN, db_host=HOST_TOKEN, db_port=3306,
    app_log_group="/platform/app-dev-pr1234", metrics_namespace="Platform/app-dev-pr1234",
    static_path="/static/", environment="dev")

_STUBS = {
    "dnf": 'echo "dnf $*" >>"$CALLS"',
    "id": 'echo "id $*" >>"$CALLS"; [ -f "$PLATFORM_ROOT/.user-created" ]',
    "useradd": 'echo "useradd $*" >>"$CALLS"; touch "$PLATFORM_ROOT/.user-created"',
    "systemctl": 'echo "systemctl $*" >>"$CALLS"',
    # Refuses any metadata read without the IMDSv2 token, as the launch template does.
    "curl": r'''echo "curl $*" >>"$CALLS"
case "$*" in
  *169.254.169.254/latest/api/token*)
    [[ "$*" == *"-X PUT"* && "$*" == *"X-aws-ec2-metadata-token-ttl-seconds: 300"* ]] || exit 22
    echo imds-session-token ;;
  *169.254.169.254*)
    [[ "$*" == *"X-aws-ec2-metadata-token: imds-session-token"* ]] || exit 22
    echo i-0123456789abcdef0 ;;
  *https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem*)
    while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
    printf -- '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' >"$out" ;;
  *) exit 7 ;;
esac''',
    "python3.11": r'''echo "python3.11 $*" >>"$CALLS"
while [ $# -gt 0 ]; do [ "$1" = --target ] && target=$2; shift; done
mkdir -p "$target/gunicorn"''',
}


def _run(script: pathlib.Path, root: pathlib.Path, bin_dir: pathlib.Path, calls: pathlib.Path):
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "PLATFORM_ROOT": str(root),
           "CALLS": str(calls), "HOME": str(root), "LANG": "C.UTF-8"}
    return subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=60)


def _tree(root: pathlib.Path) -> dict[str, str]:
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("var/log/"):
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def rendered() -> str:
    return render_user_data(SETTINGS)


@pytest.fixture(scope="module")
def installed(tmp_path_factory, rendered):
    """The user data run twice on one scratch root: (root, calls, first, second, trees)."""
    base = tmp_path_factory.mktemp("userdata")
    root, bin_dir = base / "root", base / "bin"
    for d in ("etc/systemd/system", "etc/logrotate.d", "opt/aws/amazon-cloudwatch-agent/bin"):
        (root / d).mkdir(parents=True)
    bin_dir.mkdir()
    stubs = dict(_STUBS)
    for name, body in stubs.items():
        (bin_dir / name).write_text("#!/bin/bash\n" + body + "\n")
        (bin_dir / name).chmod(0o755)
    agent = root / "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
    agent.write_text('#!/bin/bash\necho "amazon-cloudwatch-agent-ctl $*" >>"$CALLS"\n')
    agent.chmod(0o755)
    script = base / "user-data.sh"
    script.write_text(rendered)
    calls = base / "calls.log"
    first = _run(script, root, bin_dir, calls)
    tree1 = _tree(root)
    calls_after_first = calls.read_text() if calls.exists() else ""
    second = _run(script, root, bin_dir, calls)
    return {"root": root, "first": first, "second": second, "tree1": tree1,
            "tree2": _tree(root), "calls1": calls_after_first, "calls": calls.read_text()}


def _worst_case_size(script: str) -> int:
    """Bytes once Terraform fills each reference with a 255-character value (longer than
    any secret ARN, cluster endpoint or log group name it can produce)."""
    return len(re.sub(r"\$\{[^}]+\}", "x" * 255, script).encode())


def test_fits_the_16_kb_user_data_limit_whatever_terraform_fills_in(rendered):
    size = _worst_case_size(rendered)
    assert size < USER_DATA_LIMIT_BYTES, f"{size} bytes"


def test_is_valid_bash_and_deterministic(rendered, tmp_path):
    script = tmp_path / "ud.sh"
    script.write_text(rendered)
    check = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert render_user_data(SETTINGS) == rendered, "two synths would differ"


def test_terraform_sees_no_interpolation_but_the_settings_tokens(rendered):
    found = re.findall(r"[$%]\{[^}]*\}", rendered)
    assert sorted(found) == sorted([SECRET_TOKEN, HOST_TOKEN]), found


def test_tokens_stay_in_the_plain_env_file(rendered):
    env_block = rendered.split("<<'PLATFORM_ENV'\n", 1)[1].split("PLATFORM_ENV\n", 1)[0]
    env = dict(line.split("=", 1) for line in env_block.splitlines())
    assert env == app_env(SETTINGS)
    assert env["DB_SECRET_ARN"] == SECRET_TOKEN and env["DB_HOST"] == HOST_TOKEN
    assert env["APP_BIND"] == "0.0.0.0:8080"


def test_env_values_that_would_break_the_env_file_are_refused():
    bad = UserDataSettings(**{**SETTINGS.__dict__, "static_path": "/static/ x"})
    with pytest.raises(UserDataError, match="STATIC_PATH"):
        render_user_data(bad)


def test_the_rendered_env_is_what_the_application_reads(tmp_path):
    sys.path.insert(0, str(APP_ROOT))
    try:
        from platform_app.config import Settings
        from platform_app.health import CHECK_BUDGET_S
    finally:
        sys.path.remove(str(APP_ROOT))
    ca = tmp_path / "bundle.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    env = {**app_env(SETTINGS), "DB_CA_BUNDLE": str(ca), "INSTANCE_ID": "i-1"}
    settings = Settings.from_env(env)
    assert (settings.secret_arn, settings.db_host, settings.db_port) == (
        SECRET_TOKEN, HOST_TOKEN, 3306)
    assert settings.metrics_endpoint == "udp://127.0.0.1:25888"
    # No step starts past the budget and none lasts longer than its timeout (Secrets
    # Manager: 0.5 s connect + 1 s read), so a check ends inside the target group's 5 s.
    assert CHECK_BUDGET_S + max(settings.connect_timeout, settings.query_timeout, 1.5) < 5


def test_shipped_modules_are_the_repository_modules_line_for_line():
    shipped = shipped_files()
    assert set(shipped) == set(payload_files())
    assert {"platform_app/wsgi.py", "platform_app/gunicorn_conf.py", "deploy/install.sh",
            "deploy/platform-app.service", "requirements-instance.txt"} <= set(shipped)
    for name, original in payload_files().items():
        got = shipped[name]
        assert got.count(b"\n") == original.count(b"\n"), f"{name}: line numbers moved"
        if name.endswith(".py"):
            # Blanked docstrings keep their newlines; everything else is the same AST.
            assert ast.dump(_without_docstrings(got)) == ast.dump(
                _without_docstrings(original)), name
        else:
            kept = [line for line in original.splitlines() if not line.lstrip().startswith(b"#")
                    or line.startswith(b"#!")]
            assert [line for line in got.splitlines() if line] == [line for line in kept if line], \
                name


def _without_docstrings(source: bytes) -> ast.AST:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None),
                                                          ast.Constant) and isinstance(
                    first.value.value, str):
                first.value.value = ""
    return tree


def test_instance_dependencies_are_hash_pinned_and_are_what_the_tests_run():
    lines = [line for line in (APP_ROOT / "requirements-instance.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    pins = {}
    for line in lines:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+) --hash=sha256:[0-9a-f]{64}", line)
        assert m, f"not pinned by version and hash: {line}"
        pins[m.group(1).lower()] = m.group(2)
    for name in ("gunicorn", "pymysql", "botocore"):
        assert pins[name] == importlib.metadata.version(name), (
            f"{name}: the instance installs {pins[name]} but the tests ran "
            f"{importlib.metadata.version(name)}; align app/requirements-instance.txt")


def test_agent_ships_the_files_the_service_writes(rendered):
    config = json.loads(rendered.split("<<'PLATFORM_AGENT'\n", 1)[1].split(
        "\nPLATFORM_AGENT\n", 1)[0])
    assert config == agent_config(SETTINGS)
    collected = config["logs"]["logs_collected"]["files"]["collect_list"]
    unit = (APP_ROOT / "deploy/platform-app.service").read_text()
    app_log = re.search(r"^StandardOutput=append:(\S+)$", unit, re.M).group(1)
    assert {c["file_path"] for c in collected} == {app_log,
                                                   "/var/log/platform-app/user-data.log"}
    assert {c["log_group_name"] for c in collected} == {SETTINGS.app_log_group}
    assert "emf" in config["logs"]["metrics_collected"]


def test_runs_to_completion_and_installs_the_payload(installed):
    first = installed["first"]
    assert first.returncode == 0, first.stdout + first.stderr
    root = installed["root"]
    log = (root / "var/log/platform-app/user-data.log").read_text()
    assert "platform-app user data start" in log and "platform-app install: done" in log
    current = root / "opt/platform-app/current"
    release = hashlib.sha256(build_payload()).hexdigest()[:16]
    assert os.readlink(current) == f"releases/{release}"
    for name, content in shipped_files().items():
        if name.startswith("platform_app/") or name == "requirements-instance.txt":
            assert (current / name).read_bytes() == content, name
    assert (current / "lib/gunicorn").is_dir()
    env = dict(line.split("=", 1) for line in (root / "etc/platform-app/app.env").read_text()
               .splitlines())
    assert env == app_env(SETTINGS)
    assert (root / "etc/platform-app/instance.env").read_text() == (
        "INSTANCE_ID=i-0123456789abcdef0\n")
    assert "BEGIN CERTIFICATE" in (root / "etc/platform-app/rds-global-bundle.pem").read_text()


def test_writes_a_restarting_systemd_unit_that_runs_the_installed_app(installed):
    root = installed["root"]
    unit = (root / "etc/systemd/system/platform-app.service").read_text()
    assert re.search(r"^Restart=always$", unit, re.M)
    assert re.search(r"^RestartSec=\d+$", unit, re.M)
    assert re.search(r"^User=platform-app$", unit, re.M)
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M).group(1).split()
    assert exec_start[:3] == ["/usr/bin/python3.11", "-m", "gunicorn"]
    conf = exec_start[exec_start.index("-c") + 1]
    assert (root / conf.lstrip("/")).is_file(), f"{conf} is not installed"
    module, attr = exec_start[-1].split(":")
    assert (root / "opt/platform-app/current" / (module.replace(".", "/") + ".py")).is_file()
    assert attr == "application"
    calls = installed["calls1"].splitlines()
    assert calls[-3:] == ["systemctl daemon-reload", "systemctl enable platform-app.service",
                          "systemctl restart platform-app.service"]
    assert any(c.startswith("amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:")
               and c.endswith("/etc/platform-app/cloudwatch-agent.json") for c in calls)
    assert (root / "etc/logrotate.d/platform-app").is_file()


def test_pip_installs_only_hash_pinned_wheels(installed):
    pip = [c for c in installed["calls1"].splitlines() if c.startswith("python3.11")]
    assert len(pip) == 1
    for flag in ("-m pip install", "--require-hashes", "--no-deps", "--only-binary=:all:",
                 "-r "):
        assert flag in pip[0]


def test_metadata_reads_use_imdsv2_tokens_only(installed):
    imds = [c for c in installed["calls"].splitlines() if "169.254.169.254" in c]
    assert imds, "the instance id comes from IMDS"
    for call in imds:
        assert ("-X PUT" in call and "api/token" in call) or (
            "X-aws-ec2-metadata-token: imds-session-token" in call), call


def test_second_run_is_idempotent(installed):
    second = installed["second"]
    assert second.returncode == 0, second.stdout + second.stderr
    assert installed["tree2"] == installed["tree1"]
    calls = installed["calls"].splitlines()
    assert sum(c.startswith("python3.11") for c in calls) == 1, "the second run reinstalled"
    assert sum(c.startswith("useradd") for c in calls) == 1
    assert sum("truststore" in c for c in calls) == 1
    releases = list((installed["root"] / "opt/platform-app/releases").iterdir())
    assert len(releases) == 1


def test_the_synthesized_launch_template_carries_exactly_this_payload(prod):
    """compute.py's user data, as Terraform will see it, installs this repository's app."""
    lt = prod.one("aws_launch_template")
    (script,) = [v for v in prod.doc["locals"].values()
                 if isinstance(v, str) and "PLATFORM_PAYLOAD" in v]
    assert lt["user_data"].startswith("${base64encode(local.")
    payload = script.split("<<'PLATFORM_PAYLOAD'\n", 1)[1].split("PLATFORM_PAYLOAD\n", 1)[0]
    assert base64.b64decode(payload) == build_payload()
    env_block = script.split("<<'PLATFORM_ENV'\n", 1)[1].split("PLATFORM_ENV\n", 1)[0]
    env = dict(line.split("=", 1) for line in env_block.splitlines())
    assert env["DB_SECRET_ARN"].startswith("${aws_secretsmanager_secret.")
    assert env["DB_HOST"].startswith("${aws_rds_cluster.")
    assert env["APP_BIND"] == "0.0.0.0:8080" and env["DB_PORT"] == "3306"
    # Terraform resolves only resource references; everything else reaches bash as rendered.
    for expr in re.findall(r"[$%]\{([^}]*)\}", script):
        assert re.fullmatch(r"aws_\w+\.\w+\.\w+", expr), expr
    assert _worst_case_size(script) < USER_DATA_LIMIT_BYTES
