"""Bad sweeper arguments (issue #15 items 5 and 6): each is refused with exit 2 and one line
that names the argument, no traceback, and nothing deleted, against a real moto server that
holds resources of the very suffix, so a refusal that failed would delete them (every case
asks for --delete). The aws target's STS is that moto server (AWS_ENDPOINT_URL): nothing
here can reach AWS.

Every case runs in-process through ``main()``; a representative share runs again through the
real command line, for the exit code and the absence of a traceback as a user sees them. A
dead endpoint and a silent one must be refused within the probe's stated bound.
"""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness import sandbox
from harness.sweep import main
from harness.sweep.bounds import PROBE
from tests.component.leftover_plant import client

pytestmark = pytest.mark.component

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SUFFIX = "swpa7x"
MOTO_ACCOUNT = "123456789012"


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]             # {endpoint} {dead} {silent} {tmp} are filled in
    names: str                  # what the refusal must name
    files: dict[str, str] = field(default_factory=dict)   # tmp-relative path -> content
    env: dict[str, str] = field(default_factory=dict)
    cli: bool = False           # also through the real command line


OK = ["--suffix", SUFFIX, "--endpoint", "{endpoint}", "--delete"]
AWS = ["--suffix", SUFFIX, "--target", "aws", "--delete"]
RECORD = "work/" + SUFFIX + "/deployment.json"
CASES = [
    # the suffix
    Case("no-suffix", ["--endpoint", "{endpoint}", "--delete"], "--suffix", cli=True),
    Case("suffix-without-value", ["--endpoint", "{endpoint}", "--delete", "--suffix"], "--suffix"),
    Case("suffix-empty", ["--suffix=", "--endpoint", "{endpoint}", "--delete"], "--suffix"),
    Case("suffix-uppercase", ["--suffix", "SWPA7X", "--endpoint", "{endpoint}", "--delete"],
         "--suffix 'SWPA7X'"),
    Case("suffix-leading-hyphen", ["--suffix=-swpa7x", "--endpoint", "{endpoint}", "--delete"],
         "--suffix '-swpa7x'"),
    Case("suffix-trailing-hyphen", ["--suffix", "swpa7x-", "--endpoint", "{endpoint}", "--delete"],
         "--suffix 'swpa7x-'"),
    Case("suffix-double-hyphen", ["--suffix", "swp--a7x", "--endpoint", "{endpoint}", "--delete"],
         "--suffix 'swp--a7x'"),
    Case("suffix-underscore", ["--suffix", "swp_a7x", "--endpoint", "{endpoint}", "--delete"],
         "--suffix 'swp_a7x'"),
    Case("suffix-path", ["--suffix", "../swpa7x", "--endpoint", "{endpoint}", "--delete"],
         "--suffix '../swpa7x'", cli=True),
    Case("suffix-space", ["--suffix", " swpa7x", "--endpoint", "{endpoint}", "--delete"],
         "--suffix ' swpa7x'"),
    Case("suffix-too-short", ["--suffix", "swp", "--endpoint", "{endpoint}", "--delete"],
         "--suffix 'swp'"),
    # the sandbox endpoint
    Case("endpoint-private-ip", [*OK[:3], "http://192.168.1.10:5000", "--delete"],
         "--endpoint http://192.168.1.10:5000", cli=True),
    Case("endpoint-ipv6-not-loopback", [*OK[:3], "http://[::2]:5000", "--delete"],
         "--endpoint http://[::2]:5000"),
    Case("endpoint-hostname", [*OK[:3], "http://example.com:5000", "--delete"],
         "--endpoint http://example.com:5000"),
    Case("endpoint-no-scheme", [*OK[:3], "127.0.0.1:5000", "--delete"], "--endpoint 127.0.0.1:5000"),
    Case("endpoint-no-port", [*OK[:3], "http://127.0.0.1", "--delete"], "--endpoint http://127.0.0.1"),
    Case("endpoint-ftp", [*OK[:3], "ftp://127.0.0.1:21", "--delete"], "--endpoint ftp://127.0.0.1:21"),
    Case("endpoint-nothing-listening", [*OK[:3], "{dead}", "--delete"], "--endpoint {dead}",
         cli=True),
    Case("endpoint-silent", [*OK[:3], "{silent}", "--delete"], "--endpoint {silent}"),
    Case("endpoint-none-recorded", ["--suffix", SUFFIX, "--stack-workdir", "{tmp}/work",
                                    "--delete"], "--endpoint"),
    Case("workdir-is-a-file", ["--suffix", SUFFIX, "--stack-workdir", "{tmp}/file", "--delete"],
         "--stack-workdir {tmp}/file", files={"file": "x"}),
    Case("record-not-json", ["--suffix", SUFFIX, "--stack-workdir", "{tmp}/work", "--delete"],
         "--stack-workdir", files={RECORD: "{not json"}),
    Case("record-a-list", ["--suffix", SUFFIX, "--stack-workdir", "{tmp}/work", "--delete"],
         "--stack-workdir", files={RECORD: "[]"}),
    Case("record-endpoint-not-loopback", ["--suffix", SUFFIX, "--stack-workdir", "{tmp}/work",
                                          "--delete"], "--endpoint (recorded",
         files={RECORD: json.dumps({"suffix": SUFFIX, "target": "sandbox", "region": "us-east-1",
                                    "run_id": "r1", "status": "deployed",
                                    "endpoint": "http://10.0.0.5:5000"})}),
    Case("record-wrong-shape", ["--suffix", SUFFIX, "--stack-workdir", "{tmp}/work", "--delete"],
         "--stack-workdir", files={RECORD: json.dumps({"endpoint": "http://127.0.0.1:5000"})}),
    Case("sandbox-with-stack-config", [*OK, "--stack-config", "{tmp}/allow.json"],
         "--stack-config", files={"allow.json": json.dumps({"allowed_account_ids": [MOTO_ACCOUNT]})}),
    # the aws target
    Case("aws-no-config", AWS, "--stack-config"),
    Case("aws-config-missing", [*AWS, "--stack-config", "{tmp}/nope.json"], "--stack-config",
         cli=True),
    Case("aws-config-not-json", [*AWS, "--stack-config", "{tmp}/c.json"], "--stack-config",
         files={"c.json": "{allowed_account_ids: [1]"}),
    Case("aws-config-a-list", [*AWS, "--stack-config", "{tmp}/c.json"], "--stack-config",
         files={"c.json": json.dumps([MOTO_ACCOUNT])}),
    Case("aws-config-without-allow-list", [*AWS, "--stack-config", "{tmp}/c.json"],
         "allowed_account_ids", files={"c.json": json.dumps({"environment": "dev"})}),
    Case("aws-allow-list-malformed", [*AWS, "--stack-config", "{tmp}/c.json"], "allowed_account_ids",
         files={"c.json": json.dumps({"allowed_account_ids": MOTO_ACCOUNT})}),
    Case("aws-account-not-allowed", [*AWS, "--stack-config", "{tmp}/c.json"], "allowed_account_ids",
         files={"c.json": json.dumps({"allowed_account_ids": ["111111111111"]})}),
    Case("aws-env-config-missing", AWS, "$STACK_CONFIG",
         env={"STACK_CONFIG": "{tmp}/gone.json"}),
    Case("aws-with-endpoint", [*AWS, "--endpoint", "{endpoint}"], "--endpoint"),
    Case("aws-profile-missing", [*AWS, "--stack-config", "{tmp}/allow.json"], "--target aws",
         files={"allow.json": json.dumps({"allowed_account_ids": [MOTO_ACCOUNT]})},
         env={"AWS_PROFILE": "no-such-profile"}),
    # the rest
    Case("unknown-target", ["--suffix", SUFFIX, "--target", "azure", "--delete"], "--target",
         cli=True),
    Case("unknown-region", [*OK, "--region", "us-east-9"], "--region 'us-east-9'"),
    Case("unknown-option", [*OK, "--force"], "--force"),
]


@dataclass(frozen=True)
class Target:
    endpoint: str
    dead: str
    silent: str
    still_there: Callable[[], list[str]]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """moto with a bucket, a parameter and a log group of SUFFIX; a loopback port nobody
    listens on; one that accepts connections and never answers."""
    endpoint, pid = sandbox.start(tmp_path_factory.mktemp("sweep-args") / "moto.log")
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        s3, ssm, logs = (client(endpoint, s) for s in ("s3", "ssm", "logs"))
        s3.create_bucket(Bucket=f"static-dev-{SUFFIX}")
        ssm.put_parameter(Name=f"/fintxn/dev-{SUFFIX}/flag", Value="1", Type="String")
        logs.create_log_group(logGroupName=f"/fintxn/dev-{SUFFIX}/app")

        def still_there() -> list[str]:
            return sorted(
                [b["Name"] for b in s3.list_buckets()["Buckets"]]
                + [p["Name"] for p in ssm.describe_parameters()["Parameters"]]
                + [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]])

        assert len(still_there()) == 3
        yield Target(endpoint, f"http://127.0.0.1:{sandbox.free_port()}",
                     f"http://127.0.0.1:{silent.getsockname()[1]}", still_there)
    finally:
        silent.close()
        sandbox.stop(pid)


def _fill(text: str, t: Target, tmp: Path) -> str:
    return (text.replace("{endpoint}", t.endpoint).replace("{dead}", t.dead)
            .replace("{silent}", t.silent).replace("{tmp}", str(tmp)))


def _prepare(case: Case, t: Target, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for rel, content in case.files.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(content)
    for key, value in {"AWS_ENDPOINT_URL": t.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                       **case.env}.items():
        monkeypatch.setenv(key, _fill(value, t, tmp))
    for key in {"STACK_CONFIG", "AWS_PROFILE"} - set(case.env):
        monkeypatch.delenv(key, raising=False)
    return [_fill(a, t, tmp) for a in case.args]


def _assert_refused(code: int, out: str, err: str, case: Case, t: Target, tmp: Path,
                    before: list[str]) -> None:
    text = out + err
    assert code == 2, (case.id, text)
    assert "Traceback" not in text, (case.id, text)
    assert out.startswith("sweep refused: ") and out.count("\n") == 1, (case.id, text)
    assert _fill(case.names, t, tmp) in out, (case.id, text)
    assert "deleted" not in out and "carry suffix" not in out, (case.id, text)
    assert t.still_there() == before, case.id


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_refused_in_process(case: Case, target: Target, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    before = target.still_there()
    args = _prepare(case, target, tmp_path, monkeypatch)
    out = io.StringIO()
    started = time.monotonic()
    code = main(args, out=out)
    elapsed = time.monotonic() - started
    _assert_refused(code, out.getvalue(), capsys.readouterr().err, case, target, tmp_path, before)
    # No case may wait longer than the probe's stated bound (only the two endpoint cases wait).
    assert elapsed < PROBE.bound_s, (case.id, elapsed)


@pytest.mark.parametrize("case", [c for c in CASES if c.cli], ids=[c.id for c in CASES if c.cli])
def test_refused_on_the_command_line(case: Case, target: Target, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    before = target.still_there()
    args = _prepare(case, target, tmp_path, monkeypatch)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness.sweep", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - started
    _assert_refused(proc.returncode, proc.stdout, proc.stderr, case, target, tmp_path, before)
    assert proc.stderr == "", (case.id, proc.stderr)
    # Interpreter start-up included: the whole command ends within the probe's bound.
    assert elapsed < PROBE.bound_s, (case.id, elapsed)
    print(f"{case.id}: refused in {elapsed:.2f} s (bound {PROBE.bound_s:g} s)")
