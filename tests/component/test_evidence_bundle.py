"""The evidence plugin end to end: small sample suites run in a child pytest (no synth)."""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# Child pytest sessions, not synthesized JSON: component, so `-m unit` stays fast.
pytestmark = pytest.mark.component

PROJECT_ROOT = Path(__file__).resolve().parents[2]
INI = """\
[pytest]
markers =
    live: needs a real AWS account
"""


def run_suite(where: Path, tests: str, *args: str, out: str = "out") -> tuple[subprocess.CompletedProcess, Path]:
    where.mkdir(parents=True, exist_ok=True)
    (where / "pytest.ini").write_text(INI)
    (where / "test_sample.py").write_text(textwrap.dedent(tests))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "evidence.plugin", "-p", "no:cacheprovider",
                           "--evidence-dir", out, "-q", *args],
                          cwd=where, env=env, capture_output=True, text=True, timeout=180)
    return proc, where / out


def report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text())


def row(doc: dict, rid: str) -> dict:
    return next(r for r in doc["requirements"] if r["id"] == rid)


MIXED = """
    import pytest

    @pytest.mark.control("4.2.1")
    def test_tls_policy(record_fact):
        record_fact("elbv2.SslPolicy", "ELBSecurityPolicy-TLS13-1-2-2021-06")

    @pytest.mark.control("6.4.2")
    def test_waf_attached():
        assert False, "no web ACL on the distribution"

    @pytest.mark.control("3.5.1")
    def test_encrypted_a():
        pass

    @pytest.mark.control("3.5.1")
    def test_encrypted_b():
        assert 1 == 2

    @pytest.mark.live(reason="moto cannot")
    @pytest.mark.control("10.6.1")
    def test_clock_sync():
        pytest.skip("live: needs a real AWS account")

    @pytest.mark.control("12.5.1")
    def test_tags_not_selected():
        pass
"""


def test_unknown_or_missing_control_id_fails_collection(tmp_path):
    bad = {"test_unknown.py": '"99.9"', "test_one_unknown.py": '"4.2.1", "4.2.99"', "test_no_id.py": ""}
    for name, control in bad.items():
        (tmp_path / name).write_text(textwrap.dedent(f"""
            import pytest

            def test_unmarked():
                pass

            @pytest.mark.control({control})
            def test_marked():
                pass
        """))
    proc, out = run_suite(tmp_path, "def test_fine():\n    pass\n")
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, proc.stdout + proc.stderr
    for name in bad:
        assert f"ERROR collecting {name}" in proc.stdout, proc.stdout
    # (CI=true makes pytest repeat each message in the short summary: look for, don't count.)
    assert "test_unknown.py::test_marked: @pytest.mark.control names 99.9, not in the PCI DSS catalogue" in proc.stdout
    assert "test_one_unknown.py::test_marked: @pytest.mark.control names 4.2.99, not in" in proc.stdout
    assert "name one or more requirement ids" in proc.stdout
    assert "3 errors" in proc.stdout.splitlines()[-1] and "passed" not in proc.stdout.splitlines()[-1]


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    return run_suite(tmp_path_factory.mktemp("mixed"), MIXED, "-k", "not tags_not_selected")


def test_statuses_gaps_first_and_bundle_files_parse(mixed_run):
    proc, out = mixed_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = report(out)

    assert row(doc, "4.2.1")["status"] == "met"
    assert row(doc, "6.4.2")["status"] == "gap", "a requirement whose only test failed is a gap"
    assert row(doc, "3.5.1")["status"] == "failed"
    assert row(doc, "10.6.1")["status"] == "live-only"
    tags = row(doc, "12.5.1")
    assert tags["status"] == "gap" and tags["tests"][0]["outcome"] == "deselected"
    assert row(doc, "1.2.5")["why"] == "no test names this requirement"
    assert row(doc, "4.2.1")["tests"][0]["facts"] == [
        {"key": "elbv2.SslPolicy", "value": "ELBSecurityPolicy-TLS13-1-2-2021-06"}]
    assert doc["counts"]["met"] == 1 and doc["counts"]["live-only"] == 1

    meta = doc["meta"]
    for key in ("run_id", "suffix", "target", "account_id", "region", "git_commit", "started", "finished"):
        assert meta[key], key
    assert meta["target"] == "n/a (unit run)"
    assert {"terraform", "provider hashicorp/aws", "cdktf", "python", "moto", "checkov"} <= set(meta["tools"])
    assert doc["checkov"] == {"status": "not run in this run"}

    suite = ET.parse(out / "junit.xml").getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert set(cases) == {"test_tls_policy", "test_waf_attached", "test_encrypted_a",
                          "test_encrypted_b", "test_clock_sync"}
    assert suite.get("failures") == "2" and suite.get("skipped") == "1"
    assert cases["test_waf_attached"].find("failure").get("message").startswith("AssertionError")
    assert [p.get("value") for p in cases["test_tls_policy"].iter("property")
            if p.get("name") == "pci_dss"] == ["4.2.1"]

    summary = (out / "summary.md").read_text()
    gaps, met = summary.index("## Gaps and failures"), summary.index("## Met")
    assert gaps < summary.index("### 6.4.2 [GAP]") < met
    assert gaps < summary.index("### 3.5.1 [FAILED]") < met
    assert summary.index("### 4.2.1 [MET]") > met > gaps
    assert "Policy gate: not run in this run" in summary


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one-process", "xdist"])
def test_no_registered_secret_reaches_any_bundle_file(tmp_path, workers):
    password = secrets.token_urlsafe(24)  # what a rotation would generate: unknown in advance
    proc, out = run_suite(tmp_path, f"""
        import logging
        import pytest

        from evidence import checkov_gate

        DB_PASSWORD = {password!r}

        @pytest.mark.control("2.2.1")
        def test_gate_writes_its_reports(evidence_bundle, evidence_secret):
            evidence_secret(DB_PASSWORD)
            check = {{"check_id": "CKV_1", "check_name": "n", "resource": "aws_x.y", "guideline": None}}
            raw = {{"summary": {{"checkov_version": "3.3.30", "resource_count": 1}},
                   "results": {{"passed_checks": [check], "failed_checks": []}},
                   "code_block": ["master_password = " + DB_PASSWORD]}}
            evidence_bundle.write_json("checkov/results_json.json", raw)
            evidence_bundle.write_json("checkov/gate.json", checkov_gate.classify(raw, [], 1).as_dict())

        @pytest.mark.control("8.6.3")
        def test_rotation_handles_the_password(record_fact, evidence_secret, record_property):
            evidence_secret(DB_PASSWORD)
            record_fact("rotation.new_value", DB_PASSWORD)          # innocent key: value redaction
            record_fact("db", {{"username": "admin", "password": "unregistered-pw"}})  # key redaction
            record_property("raw", DB_PASSWORD)
            print("password is", DB_PASSWORD)
            logging.getLogger("rotation").warning("rotated to %s", DB_PASSWORD)
            assert DB_PASSWORD == "something else", f"login failed with {{DB_PASSWORD}}"
    """, *workers)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {str(p.relative_to(out)) for p in files} == {
        "junit.xml", "report.json", "summary.md", "checkov/gate.json", "checkov/results_json.json"}
    for path in files:
        text = path.read_text()
        assert password not in text, f"{path.name} holds the registered password"
        assert "unregistered-pw" not in text.replace('"unregistered-pw"})', ""), path.name
    doc = report(out)
    assert doc["checkov"]["counts"] == {"passed": 1, "failed": 0, "suppressed": 0}
    assert "1 passed, 0 failed, 0 suppressed" in (out / "summary.md").read_text()
    facts = next(t for t in doc["tests"] if t["nodeid"].endswith("handles_the_password"))["facts"]
    assert facts == [{"key": "rotation.new_value", "value": "[REDACTED]"},
                     {"key": "db", "value": {"password": "[REDACTED]", "username": "admin"}}]
    assert "login failed with [REDACTED]" in (out / "junit.xml").read_text()


def test_two_runs_give_the_same_requirement_table(mixed_run):
    first, out1 = mixed_run
    second, out2 = run_suite(out1.parent, MIXED, "-k", "not tags_not_selected", out="again")
    a, b = report(out1), report(out2)
    assert a["meta"]["run_id"] != b["meta"]["run_id"] and a["meta"]["started"] <= b["meta"]["started"]
    assert a["requirement_table"] == b["requirement_table"]
    assert a["meta"]["table_digest"] == b["meta"]["table_digest"]


def test_ci_writes_a_bundle_by_default_but_not_from_a_pytest_a_test_started(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("EVIDENCE_PARENT_RUN", "EVIDENCE_DIR")}
    (tmp_path / "pytest.ini").write_text(INI)
    (tmp_path / "test_sample.py").write_text("def test_fine():\n    pass\n")
    command = [sys.executable, "-m", "pytest", "-p", "evidence.plugin", "-p", "no:cacheprovider", "-q"]
    for parent, expected in (("", True), ("1", False)):
        run_env = {**env, "CI": "true", "PYTHONPATH": str(PROJECT_ROOT),
                   **({"EVIDENCE_PARENT_RUN": parent} if parent else {})}
        subprocess.run(command, cwd=tmp_path, env=run_env, capture_output=True, timeout=180, check=True)
        assert (tmp_path / "out" / "evidence" / "report.json").is_file() is expected
        shutil.rmtree(tmp_path / "out", ignore_errors=True)


def test_passwords_read_from_secrets_manager_are_redacted_without_opting_in(tmp_path):
    password = secrets.token_urlsafe(24)
    proc, out = run_suite(tmp_path, f"""
        import json
        import boto3
        import pytest
        from moto import mock_aws

        @mock_aws
        @pytest.mark.control("8.6.3")
        def test_reads_the_db_secret():
            sm = boto3.client("secretsmanager", region_name="us-east-1")
            sm.create_secret(Name="db", SecretString=json.dumps(
                {{"username": "admin", "password": {password!r}, "host": "db.internal"}}))
            value = json.loads(sm.get_secret_value(SecretId="db")["SecretString"])
            generated = sm.get_random_password(PasswordLength=32)["RandomPassword"]
            assert value["password"] == generated, f"{{value['password']}} then {{generated}}"
    """)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    junit = (out / "junit.xml").read_text()
    assert password not in junit and "[REDACTED] then [REDACTED]" in junit
    for path in out.rglob("*"):
        assert not path.is_file() or password not in path.read_text(), path.name
