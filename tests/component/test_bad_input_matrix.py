"""Issue #15 item 6: bad plugin options and bad deployment records, one parametrized case each.

Every case runs against a project that already holds an evidence bundle (with a file of the
user's beside it) and deployment records, and asserts: the exit code, a message naming the
option or file, no traceback or INTERNALERROR, the message said once, and every byte of the
project as it was (nothing created, no moto log, the bundle and the records intact).
The stack config's own values are tests/unit/test_bad_config_matrix.py; the sweeper's
arguments tests/component/test_sweep_arguments.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.record import Deployment, Status, Target
from tests.component import child_pytest
from tests.component.child_pytest import pytest_command, pytest_env

pytestmark = pytest.mark.component

KEPT = "kept1"  # a valid record that every case must leave as it is
BUNDLE = {"evidence/junit.xml": "<testsuites/>\n", "evidence/report.json": '{"earlier": true}\n',
          "evidence/summary.md": "# earlier bundle\n", "evidence/checkov/gate.json": "{}\n",
          "evidence/notes.txt": "the user's own file\n"}
# Not a directory this user may write in: chmod means nothing to root, /proc/1 does.
UNWRITABLE = "/proc/1" if os.geteuid() == 0 else "unwritable"

TESTS = '''
    import pytest

    @pytest.mark.integration
    def test_needs_stack(stack):
        """needs a deployment"""
'''


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    message: str                  # what the error must say: the option or file, what is wrong
    code: int = pytest.ExitCode.USAGE_ERROR
    env: dict[str, str] = field(default_factory=dict)
    absent: str = ""              # what the output must not say


def opt(id: str, *args: str, message: str, env: dict[str, str] | None = None) -> Case:
    return Case(id, (*args, "--evidence-dir=evidence"), message, env=env or {})


OPTION_CASES = [
    opt("workdir-is-a-file", "--stack-workdir=a-file", message="/a-file: is a file, not a dir"),
    opt("workdir-under-a-file", "--stack-workdir=a-file/sub", message="is under "),
    opt("workdir-symlink-loop", "--stack-workdir=loop", message="/loop: is a symlink loop"),
    opt("workdir-under-a-loop", "--stack-workdir=loop/sub", message="a symlink loop"),
    opt("workdir-dangling-link", "--stack-workdir=dangling", message="which does not exist"),
    opt("workdir-not-writable", f"--stack-workdir={UNWRITABLE}/wd", message="is not writable"),
    opt("workdir-ini-is-a-file", "-o", "stack_workdir=a-file", message="ini stack_workdir "),
    opt("workdir-empty", "--stack-workdir=", message="--stack-workdir was given an empty value"),
    Case("evidence-is-a-file", ("--evidence-dir=a-file",), "--evidence-dir "),
    Case("evidence-under-a-file", ("--evidence-dir=a-file/ev",), "is under "),
    Case("evidence-symlink-loop", ("--evidence-dir=loop",), "is a symlink loop"),
    Case("evidence-not-writable", (f"--evidence-dir={UNWRITABLE}/ev",), "is not writable"),
    Case("evidence-dir-not-writable", (f"--evidence-dir={UNWRITABLE}",), "is not writable"),
    Case("evidence-env-is-a-file", (), "EVIDENCE_DIR ", env={"EVIDENCE_DIR": "a-file"}),
    opt("config-missing", "--stack-config=missing.json", message="missing.json does not exist"),
    opt("config-is-a-directory", "--stack-config=adir", message="adir is a directory"),
    opt("config-symlink-loop", "--stack-config=loop", message="loop is a symlink loop"),
    opt("config-under-a-file", "--stack-config=a-file/c.json", message="a part of the path is a"),
    opt("config-not-json", "--stack-config=broken.json", message="broken.json is not valid JSON"),
    opt("config-empty", "--stack-config=empty.json", message="empty.json is empty"),
    opt("config-a-list", "--stack-config=list.json", message="must hold a JSON object"),
    opt("config-not-utf8", "--stack-config=latin1.json", message="latin1.json is not UTF-8"),
    opt("config-unknown-key", "--stack-config=unknown.json", message="unknown setting(s) waf_lim"),
    opt("config-bad-values", "--stack-config=badvalues.json", message="waf_rate_limit=5"),
    opt("config-env-missing", message="nowhere.json does not exist",
        env={"STACK_CONFIG": "nowhere.json"}),
    opt("suffix-upper-underscore", "--stack-suffix", "BAD_SUFFIX",
        message="--stack-suffix 'BAD_SUFFIX': only lowercase"),
    opt("suffix-too-short", "--stack-suffix", "ab", message="--stack-suffix 'ab': at least"),
    opt("suffix-trailing-hyphen", "--stack-suffix", "abcd-", message="ending with a hyphen"),
    opt("suffix-too-long", "--stack-suffix", "a" * 30, message="at most 24 characters"),
    opt("reuse-bad-suffix", "--reuse-stack", "Kept1", message="--reuse-stack 'Kept1': only lowe"),
    opt("reuse-too-short", "--reuse-stack", "kp", message="--reuse-stack 'kp': at least"),
    opt("reuse-unknown", "--reuse-stack", "nosuch1", message="recorded suffixes: " + KEPT),
    opt("destroy-path-escape", "--destroy-stack", f"../{KEPT}",
        message=f"--destroy-stack '../{KEPT}': only lowercase"),
    opt("destroy-space", "--destroy-stack", "a b c", message="--destroy-stack 'a b c': only"),
    opt("destroy-unknown", "--destroy-stack", "nosuch1", message="nothing recorded"),
    opt("endpoint-not-loopback", "--sandbox-endpoint", "http://10.1.2.3:5000",
        message="--sandbox-endpoint http://10.1.2.3:5000: only loopback"),
    opt("endpoint-no-scheme", "--sandbox-endpoint", "127.0.0.1:5000", message="http:// or https"),
    opt("endpoint-no-port", "--sandbox-endpoint", "http://localhost", message="host and a port"),
    opt("endpoint-with-aws", "--stack-target", "aws", "--sandbox-endpoint",
        "http://127.0.0.1:5000", message="--sandbox-endpoint only applies to --stack-target sa"),
    opt("reuse-and-keep", "--reuse-stack", KEPT, "--keep-stack", message="cannot be combined"),
    opt("suffix-contradicts", "--destroy-stack", KEPT, "--stack-suffix", "other1",
        message="--stack-suffix other1 contradicts --destroy-stack"),
    opt("ini-target", "-o", "stack_target=prod", message="stack_target='prod': use one of"),
    opt("ini-attempts-word", "-o", "stack_destroy_attempts=few", message="must be an integer"),
    opt("ini-attempts-high", "-o", "stack_destroy_attempts=11", message="attempts=11: 1..10"),
]

# deployment.json contents that are not a record: never "destroyed", never used.
DAMAGED_RECORDS = {
    "reclist": "[]", "recstr": '"deployed"', "recnum": "42", "recnull": "null",
    "rectrunc": '{"suffix": "rectrunc", "status": "destroyed"', "recempty": "",
    "recobj": "{}", "recstatus": None, "rectypes": None, "recbinary": "\udcff\udcfe",
}
RECORD_CASES = [
    *(Case(f"destroy-{name}", ("--destroy-stack", name), f"{name}/deployment.json is not a "
           "deployment record", code=pytest.ExitCode.TESTS_FAILED, absent="destroyed suffix")
      for name in DAMAGED_RECORDS if name != "recbinary"),
    Case("destroy-recbinary", ("--destroy-stack", "recbinary"), "recbinary/deployment.json ",
         code=pytest.ExitCode.TESTS_FAILED, absent="destroyed suffix"),
    *(opt(f"reuse-{name}", "--reuse-stack", name,
          message=f"--reuse-stack {name}: ") for name in DAMAGED_RECORDS),
]
CASES = OPTION_CASES + RECORD_CASES


def valid_record(suffix: str, **changes: object) -> str:
    record = Deployment.started(suffix=suffix, target=Target.SANDBOX, region="us-east-1",
                                run_id="earlier", config_file="", workdir="")
    data = {**record.with_endpoint("http://127.0.0.1:1").deployed(()).model_dump(mode="json"),
            **changes}
    return json.dumps(data, indent=2, sort_keys=True)


def make_project(where: Path) -> Path:
    p = child_pytest.make_project(where, None, TESTS, "test_x.py")
    for rel, text in BUNDLE.items():
        (p / rel).parent.mkdir(parents=True, exist_ok=True)
        (p / rel).write_text(text)
    records = {KEPT: valid_record(KEPT), **DAMAGED_RECORDS,
               "recstatus": valid_record("recstatus", status="half-gone"),
               "rectypes": valid_record("rectypes", resources="all of them")}
    for suffix, text in records.items():
        (p / ".stack-work" / suffix).mkdir(parents=True)
        (p / ".stack-work" / suffix / "deployment.json").write_text(
            text or "", errors="surrogateescape")
    (p / "a-file").write_text("not a directory")
    (p / "adir").mkdir()
    (p / "loop").symlink_to("loop")
    (p / "dangling").symlink_to("gone/elsewhere")
    (p / "broken.json").write_text("{nope")
    (p / "empty.json").write_text("  \n")
    (p / "list.json").write_text("[]")
    (p / "latin1.json").write_bytes('{"x": "caf\xe9"}'.encode("latin-1"))
    (p / "unknown.json").write_text(json.dumps({"waf_limit": 5}))
    (p / "badvalues.json").write_text(json.dumps({"waf_rate_limit": 5}))
    if UNWRITABLE == "unwritable":
        (p / UNWRITABLE).mkdir(mode=0o555)
    return p


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every path under ``root`` with its bytes (links by target): any change shows."""
    out: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_file():
                out[rel] = path.read_bytes()
            else:
                out[rel] = "dir"
    return out


# One child interpreter runs every case through pytest.main in turn (a fresh Config each
# time, as a command line would): ~65 interpreters would cost minutes on two cores.
RUNNER = textwrap.dedent('''
    import contextlib, io, json, os, sys
    import pytest
    results = []
    for args, env in json.loads(sys.argv[1]):
        saved = dict(os.environ)
        os.environ.update(env)
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            code = pytest.main(["-p", "no:cacheprovider", *args])
        os.environ.clear()
        os.environ.update(saved)
        results.append({"code": int(code), "stderr": err.getvalue(), "stdout": out.getvalue()})
    print(json.dumps(results))
''')


def child_env() -> dict[str, str]:
    """No terraform on PATH: a case that wrongly got past its usage error fails in the
    deploy's preflight, before a sandbox or workdir exists, instead of deploying. Not a
    child of this session either, so that EVIDENCE_DIR is read as a user's run reads it."""
    env = pytest_env(PATH=os.path.dirname(sys.executable))
    env.pop("EVIDENCE_PARENT_RUN", None)
    return env


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """Each case's result, and whether the project was byte-identical after it (a case that
    changed something is compared against a fresh project's snapshot, not the changed one)."""
    project = make_project(tmp_path_factory.mktemp("matrix"))
    before = snapshot(project)
    beside = sorted(os.listdir(project.parent))
    out: dict[str, dict[str, object]] = {}
    # Cases run in order in one process; a case that changed the tree would mask the next
    # ones, so each batch stops at the first change and the rest rerun on a fresh project.
    pending = list(CASES)
    while pending:
        cases = json.dumps([[list(c.args), c.env] for c in pending])
        proc = subprocess.run([sys.executable, "-c", RUNNER, cases], cwd=project,
                              env=child_env(), capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-3000:]
        for case, result in zip(pending, json.loads(proc.stdout.strip().splitlines()[-1]),
                                strict=True):
            out[case.id] = result
        after, after_beside = snapshot(project), sorted(os.listdir(project.parent))
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        if not changed and after_beside == beside:
            break
        # Which case changed it is not known from one batch: rerun one at a time.
        for case in pending:
            project = make_project(tmp_path_factory.mktemp("single"))
            before_one = snapshot(project)
            proc = subprocess.run([sys.executable, "-c", RUNNER,
                                   json.dumps([[list(case.args), case.env]])], cwd=project,
                                  env=child_env(), capture_output=True, text=True, timeout=120)
            out[case.id] = json.loads(proc.stdout.strip().splitlines()[-1])[0]
            after_one = snapshot(project)
            out[case.id]["changed"] = sorted(
                k for k in set(before_one) | set(after_one) if before_one.get(k) != after_one.get(k))
            out[case.id]["changed"] += sorted(set(os.listdir(project.parent)) - {"project"})
        pending = []
    for result in out.values():
        result.setdefault("changed", [])
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_and_changes_nothing(results: dict[str, dict[str, object]],
                                                  case: Case) -> None:
    """A bad option or a damaged record stops the run with its exit code and one message
    naming the option or the file; no traceback, and the project (its earlier evidence
    bundle, its deployment records, its workdir) is byte for byte as it was."""
    result = results[case.id]
    stderr, stdout = str(result["stderr"]), str(result["stdout"])
    assert result["code"] == case.code, stderr + stdout
    assert case.message in stderr, stderr + stdout
    assert stderr.count(case.message) == 1, stderr
    assert "Traceback" not in stderr + stdout and "INTERNALERROR" not in stderr + stdout
    if case.absent:
        assert case.absent not in stdout + stderr
    assert result["changed"] == [], result["changed"]


def test_the_matrix_is_big_enough() -> None:
    """Issue #15: >= 150 bad inputs in all; this file brings >= 40 options and records."""
    assert len(CASES) >= 40 and len({c.id for c in CASES}) == len(CASES)


def test_a_usage_error_under_xdist_is_said_once_by_the_controller(tmp_path: Path) -> None:
    """With workers requested, a bad option is still one UsageError line from the controller
    (no worker starts, so no per-worker copies), and the earlier bundle is untouched."""
    project = make_project(tmp_path)
    before = snapshot(project)
    for args, message in ((("--stack-workdir=a-file",), "is a file, not a directory"),
                          (("--evidence-dir=loop",), "is a symlink loop")):
        proc = subprocess.run(pytest_command("-n", "2", "--evidence-dir=evidence", *args),
                              cwd=project, env=child_env(), capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
        assert (proc.stdout + proc.stderr).count(message) == 1, proc.stdout + proc.stderr
        assert "INTERNALERROR" not in proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
    assert snapshot(project) == before
    assert sorted(os.listdir(tmp_path)) == ["project"]


def test_damaged_records_are_never_destroyed_records() -> None:
    """Each planted damaged record fails to read as a record (else the cases above would
    test nothing): the valid one reads as deployed."""
    from harness.record import RecordError, read_record
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        project = make_project(Path(tmp))
        kept = read_record(project / ".stack-work" / KEPT / "deployment.json")
        assert kept is not None and kept.status is Status.DEPLOYED
        for name in DAMAGED_RECORDS:
            with pytest.raises(RecordError):
                read_record(project / ".stack-work" / name / "deployment.json")
