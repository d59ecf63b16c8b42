"""Bad input to the harness is refused with a clear message before anything is created."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness import mirror, sandbox
from tests.component import child_pytest
from tests.component.child_pytest import HARNESS_CONFTEST, pytest_command, pytest_env

pytestmark = pytest.mark.component


TESTS = '''
    import pytest
    pytestmark = pytest.mark.integration

    def test_needs_stack(stack):
        """needs a deployment"""
'''


def make_bad_input_project(where: Path) -> Path:
    p = child_pytest.make_project(where, HARNESS_CONFTEST, TESTS, "test_x.py")
    # Config files for the bad --stack-config cases.
    (p / "broken.json").write_text("{nope")
    (p / "list.json").write_text("[]")
    (p / "unknown.json").write_text(json.dumps({"waf_limit": 5}))
    (p / "badvalues.json").write_text(json.dumps({"waf_rate_limit": 5, "alert_emails": ["x"]}))
    (p / "sandboxsection.json").write_text(json.dumps({
        "allowed_account_ids": ["111111111111"], "sandbox": {"endpoint": "http://127.0.0.1:1"}}))
    (p / "a-file").write_text("not a directory")
    return p


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_bad_input_project(tmp_path)


def fake_terraform(project: Path) -> Path:
    """A terraform that only records that it was called: a usage error must come first."""
    fake_bin = project / "fake-bin"
    fake_bin.mkdir(exist_ok=True)
    fake = fake_bin / "terraform"
    fake.write_text(f"#!/bin/sh\necho \"$@\" >> {project / 'terraform-called'}\nexit 1\n")
    fake.chmod(0o755)
    return fake_bin


def run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    path = f"{fake_terraform(project)}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(pytest_command(*args), cwd=project, env=pytest_env(**{"PATH": path, **env}),
                          capture_output=True, text=True, timeout=120)


def nothing_created(project: Path) -> bool:
    return (not list(project.glob("**/deployment.json")) and not (project / ".stack-work").exists()
            and not (project / "terraform-called").exists())


# (arguments, environment, words the error must contain: the option and what is wrong)
BAD_OPTIONS = [
    (["--stack-target", "bogus"], {}, "--stack-target: invalid choice: 'bogus'"),
    (["-o", "stack_target=bogus"], {}, "stack_target='bogus': use one of sandbox, aws"),
    (["--sandbox-endpoint", "http://10.0.0.5:5000"], {}, "only loopback addresses"),
    (["--sandbox-endpoint", "http://192.168.1.10:5000"], {}, "not 192.168.1.10"),
    (["--sandbox-endpoint", "http://[::2]:5000"], {}, "not ::2"),
    (["--sandbox-endpoint", "http://example.com:5000"], {}, "not example.com"),
    (["--sandbox-endpoint", "ftp://127.0.0.1:21"], {}, "http:// or https://"),
    (["--sandbox-endpoint", "not-a-url"], {}, "--sandbox-endpoint not-a-url: must be an http"),
    (["--sandbox-endpoint", "http://127.0.0.1"], {}, "must name a host and a port"),
    (["--sandbox-endpoint", "http://127.0.0.1:99999"], {}, "not a URL"),
    (["--sandbox-endpoint", ""], {}, "--sandbox-endpoint was given an empty value"),
    (["--stack-suffix", "Bad_Suffix"], {}, "--stack-suffix 'Bad_Suffix': only lowercase"),
    (["--stack-suffix", "UPPER"], {}, "--stack-suffix 'UPPER': only lowercase"),
    (["--stack-suffix", "a" * 30], {}, "the suffix may have at most 24 characters"),
    (["--stack-suffix", ""], {}, "--stack-suffix was given an empty value"),
    (["--stack-suffix", "dou--ble"], {}, "single hyphens"),
    (["--stack-suffix=-lead"], {}, "not starting or ending with a hyphen"),
    (["--reuse-stack", "nosuch"], {}, "--reuse-stack nosuch: nothing recorded"),
    (["--reuse-stack", "BAD"], {}, "--reuse-stack 'BAD': only lowercase"),
    (["--reuse-stack", ""], {}, "--reuse-stack was given an empty value"),
    (["--destroy-stack", "../escape"], {}, "--destroy-stack '../escape': only lowercase"),
    (["--destroy-stack", "Nope"], {}, "--destroy-stack 'Nope': only lowercase"),
    (["--destroy-stack", ""], {}, "--destroy-stack was given an empty value"),
    (["--reuse-stack", "abc", "--keep-stack"], {}, "--reuse-stack and --keep-stack cannot be combined"),
    (["--destroy-stack", "abc", "--keep-stack"], {}, "--destroy-stack and --keep-stack cannot be"),
    (["--reuse-stack", "abc", "--destroy-stack", "abc"], {}, "cannot be combined"),
    (["--reuse-stack", "abc", "--stack-suffix", "xyz"], {}, "--stack-suffix xyz contradicts"),
    (["--stack-target", "aws", "--sandbox-endpoint", "http://127.0.0.1:5000"], {},
     "--sandbox-endpoint only applies to --stack-target sandbox"),
    (["--stack-target", "aws"], {}, "--stack-target aws needs allowed_account_ids"),
    (["--stack-target", "aws", "--stack-config=sandboxsection.json"], {}, "has a 'sandbox' section"),
    (["--stack-workdir=a-file"], {}, "is a file, not a directory"),
    (["--stack-workdir="], {}, "--stack-workdir was given an empty value"),
    (["--stack-config=missing.json"], {}, "missing.json does not exist"),
    (["--stack-config=broken.json"], {}, "broken.json is not valid JSON"),
    (["--stack-config=list.json"], {}, "list.json must hold a JSON object"),
    (["--stack-config=unknown.json"], {}, "unknown setting(s) waf_limit"),
    (["--stack-config=badvalues.json"], {}, "waf_rate_limit=5"),
    ([], {"STACK_CONFIG": "nowhere.json"}, "nowhere.json does not exist"),
    (["-o", "stack_destroy_attempts=many"], {}, "stack_destroy_attempts must be an integer"),
    (["-o", "stack_destroy_attempts=0"], {}, "stack_destroy_attempts=0: 1..10"),
]


# One child process runs every case through pytest.main in turn (a fresh Config and
# plugin manager each time, as the command line would): ~40 separate interpreters would
# cost minutes of CI on two cores for what is a millisecond check each.
RUNNER = textwrap.dedent('''
    import contextlib, io, json, os, sys
    from pathlib import Path
    import pytest
    project = Path(sys.argv[1])
    results = []
    for args, env in json.loads(sys.argv[2]):
        saved = dict(os.environ)
        os.environ.update(env)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = pytest.main(["-p", "no:cacheprovider", *args])
        os.environ.clear()
        os.environ.update(saved)
        created = sorted(str(p.relative_to(project)) for p in project.glob("**/deployment.json"))
        created += [n for n in (".stack-work", "terraform-called") if (project / n).exists()]
        results.append({"code": int(code), "stderr": err.getvalue(), "created": created})
    print(json.dumps(results))
''')


@pytest.fixture(scope="module")
def bad_option_results(tmp_path_factory) -> dict[int, dict]:
    project = make_bad_input_project(tmp_path_factory.mktemp("options"))
    path = f"{fake_terraform(project)}{os.pathsep}{os.environ.get('PATH', '')}"
    cases = json.dumps([[args, env] for args, env, _ in BAD_OPTIONS])
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(project), cases], cwd=project,
                          env=pytest_env(PATH=path), capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(enumerate(json.loads(proc.stdout.strip().splitlines()[-1])))


@pytest.mark.parametrize("case", range(len(BAD_OPTIONS)),
                         ids=[" ".join(a) or " ".join(f"{k}={v}" for k, v in e.items())
                              for a, e, _ in BAD_OPTIONS])
def test_bad_options_are_usage_errors(bad_option_results, case):
    """Each bad option or combination stops pytest with exit code 4 and a message that
    names the option and what to change, before any workdir, deployment or terraform
    call exists."""
    result = bad_option_results[case]
    message = BAD_OPTIONS[case][2]
    assert result["code"] == pytest.ExitCode.USAGE_ERROR, result["stderr"]
    assert message in result["stderr"], result["stderr"]
    assert result["created"] == []


def test_bad_options_fail_the_same_way_from_a_shell(project):
    """The in-process table above, checked against a real command line for two cases."""
    for args, message in ((["--stack-suffix", "UPPER"], "--stack-suffix 'UPPER': only lowercase"),
                          (["--destroy-stack", ""], "--destroy-stack was given an empty value")):
        proc = run(project, *args)
        assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
        assert message in proc.stderr and nothing_created(project)


def test_destroy_stack_of_an_unknown_suffix_says_what_exists(project):
    """--destroy-stack with a suffix that has no workdir says so and lists what does."""
    proc = run(project, "--destroy-stack", "nosuch")
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR
    assert "nothing recorded" in proc.stderr and "nosuch" in proc.stderr


def test_destroy_stack_of_a_damaged_record_fails_and_says_how_to_find_what_is_left(project):
    """A deployment.json that is not a record is never taken for "destroyed" or "nothing
    recorded": --destroy-stack fails, names the file and the sweeper command, runs nothing."""
    record = project / ".stack-work" / "dmg1" / "deployment.json"
    record.parent.mkdir(parents=True)
    record.write_text('{"suffix": "dmg1", "status": "destroyed"')
    proc = run(project, "--destroy-stack", "dmg1")
    assert proc.returncode == pytest.ExitCode.TESTS_FAILED, proc.stdout + proc.stderr
    assert f"{record} is not a deployment record" in proc.stderr
    assert "python -m harness.sweep --suffix dmg1" in proc.stderr
    assert "destroyed suffix" not in proc.stdout and not (project / "terraform-called").exists()


def test_aws_target_refuses_an_account_not_on_the_allow_list(project, tmp_path):
    """--stack-target aws asks STS who the caller is and refuses an account that is not on
    allowed_account_ids, before synthesizing or creating anything. (STS here is a moto
    server reached through AWS_ENDPOINT_URL; it answers with account 123456789012.)"""
    endpoint, pid = sandbox.start(tmp_path / "moto.log")
    try:
        cfg = tmp_path / "prod-guard.json"
        cfg.write_text(json.dumps({
            "environment_suffix": "ignored",
            "allowed_account_ids": ["111111111111"],
            "tls": {"certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/"
                                       "11111111-1111-1111-1111-111111111111",
                    "origin_domain_name": "origin.example.com"}}))
        proc = run(project, "--stack-target", "aws", f"--stack-config={cfg}",
                   "--stack-suffix", "guard1", AWS_ENDPOINT_URL=endpoint,
                   AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                   AWS_DEFAULT_REGION="us-east-1")
    finally:
        sandbox.stop(pid)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "refusing to deploy" in proc.stdout and "123456789012" in proc.stdout
    assert "111111111111" in proc.stdout
    assert nothing_created(project)


def test_missing_mirror_and_missing_terraform_say_what_to_install(tmp_path, monkeypatch):
    """Without the provider mirror or the terraform binary, the error names what to install."""
    empty = tmp_path / "empty-mirror"
    empty.mkdir()
    with pytest.raises(mirror.MirrorError, match="does not hold"):
        mirror.find_mirror({"TF_PLUGIN_MIRROR": str(empty)})
    # Not in the usual roots: the bounded search still finds the same mirror.
    assert mirror.find_mirror({}, search_roots=(str(empty),)) == mirror.require_mirror()
    assert "terraform providers mirror" in mirror.MISSING_MIRROR_HELP

    from harness import terraform
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(terraform.TerraformError, match="install Terraform"):
        terraform.terraform_binary()


def test_mirror_is_found_and_written_into_our_own_cli_config(tmp_path):
    """The offline mirror on this machine is found, and the CLI config we write points at it."""
    root = mirror.require_mirror()
    assert list(root.glob("registry.terraform.io/hashicorp/aws/5.100.0/*/terraform-provider-aws_v5.100.0*"))
    path = mirror.write_cli_config(tmp_path / "terraform.rc", root)
    text = path.read_text()
    assert f'path    = "{root}"' in text and 'registry.terraform.io/hashicorp/*' in text


def test_sandbox_settings_and_test_credentials_only_in_sandbox_mode(tmp_path, monkeypatch):
    """The aws target's config has no sandbox section (so the synth has no endpoint
    overrides) and its terraform environment carries the caller's credentials, not the
    sandbox's test ones; the sandbox target gets both, and only in our own subprocesses."""
    from harness.deployment import Deployer
    from harness.options import Options
    from harness.progress import Progress
    from harness.record import Target
    from harness.run_config import PLACEHOLDER_CERT_ARN, planned_config, sandbox_config

    def _no_synth(cfg: object, outdir: Path) -> Path:
        raise AssertionError("nothing is synthesized here")

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_PROFILE", "nightly")
    cfg_file = tmp_path / "aws.json"
    cfg_file.write_text(json.dumps({
        "environment_suffix": "x", "allowed_account_ids": ["111111111111"],
        "tls": {"certificate_arn": "arn:aws:acm:us-east-1:111111111111:certificate/"
                                   "11111111-1111-1111-1111-111111111111",
                "origin_domain_name": "origin.example.com"}}))
    aws = Options(target="aws", suffix="prodlike1", workdir_root=tmp_path, config_file=cfg_file)
    sandbox_opts = Options(target="sandbox", suffix="sbx1", workdir_root=tmp_path)

    aws_cfg = planned_config(aws)
    assert aws_cfg.sandbox is None
    assert aws_cfg.allowed_account_ids == ("111111111111",)
    sandbox_cfg = sandbox_config(planned_config(sandbox_opts), sandbox_opts,
                                 "http://127.0.0.1:45678", PLACEHOLDER_CERT_ARN)
    assert sandbox_cfg.sandbox.endpoint == "http://127.0.0.1:45678"

    quiet = Progress(None, write=lambda line: None)
    aws_env = Deployer(aws, quiet, synthesize=_no_synth).terraform(Target.AWS, "us-east-1").env
    assert "AWS_ACCESS_KEY_ID" not in aws_env and aws_env["AWS_PROFILE"] == "nightly"
    sandbox_env = Deployer(sandbox_opts, quiet, synthesize=_no_synth).terraform(
        Target.SANDBOX, "us-east-1", "http://127.0.0.1:45678").env
    assert sandbox_env["AWS_ACCESS_KEY_ID"] == "testing" and "AWS_PROFILE" not in sandbox_env
    assert "AWS_ACCESS_KEY_ID" not in os.environ  # the test credentials never leak into ours
