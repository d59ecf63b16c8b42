"""The evidence parts one by one: catalogue, redaction, status rules, checkov classification."""
from __future__ import annotations

import datetime as dt

import pytest

from evidence import catalogue, checkov_gate, status
from evidence.redact import MASK, Redactor

pytestmark = pytest.mark.unit


# ------------------------------------------------------------------ catalogue
def test_catalogue_covers_every_area_the_platform_addresses():
    cat = catalogue.load()
    assert cat.standard == "PCI DSS" and cat.version == "4.0.1"
    ids = set(cat.requirements)
    for prefix in ("1.", "2.2.", "3.5.", "3.6.", "3.7.", "4.2.", "6.4.", "8.3.", "8.6.",
                   "10.2.", "10.3.", "10.4.", "10.5.", "10.6.", "10.7.", "11.5.", "12.5."):
        assert any(i.startswith(prefix) for i in ids), f"no requirement under {prefix}"
    assert all(r.title.endswith(".") and len(r.title) > 30 for r in cat.requirements.values())
    assert [r.id for r in cat.ordered()][:2] == ["1.2.5", "1.3.1"]
    assert catalogue.sort_key("10.4.1.1") > catalogue.sort_key("10.4.1") > catalogue.sort_key("2.2.6")


def test_catalogue_errors_name_the_entry(tmp_path):
    bad = tmp_path / "cat.yaml"
    bad.write_text("requirements:\n  - id: '1.2.5'\n    title: x\n  - id: '1.2.5'\n    title: y\n  - title: z\n")
    with pytest.raises(catalogue.CatalogueError, match=r"1\.2\.5 is listed twice.*entry 2: needs both"):
        catalogue.load(bad)


# ------------------------------------------------------------------ redaction
def test_redaction_by_registered_value_and_by_key():
    r = Redactor()
    r.add("hunter2-Secret")
    doc = {"note": "login with hunter2-Secret failed", "db_password": "other",
           "SecretString": '{"password": "x"}', "db_secret_arn": "arn:aws:secretsmanager:us-east-1:1:secret:db",
           "manage_master_user_password": False, "nested": [{"token": "abc"}],
           "aws_secretsmanager_secret": {"kms_key_id": "k"}}
    assert r.data(doc) == {"note": f"login with {MASK} failed", "db_password": MASK, "SecretString": MASK,
                           "db_secret_arn": "arn:aws:secretsmanager:us-east-1:1:secret:db",
                           "manage_master_user_password": False, "nested": [{"token": MASK}],
                           "aws_secretsmanager_secret": {"kms_key_id": "k"}}
    assert r.text('E  {"password": "p4ss", "user": "app"} Authorization=\'Bearer x\'') == \
        f'E  {{"password": "{MASK}", "user": "app"}} Authorization=\'{MASK}\''


def test_a_secret_too_short_to_redact_safely_is_refused():
    with pytest.raises(ValueError, match="at least"):
        Redactor().add("ab")


# ------------------------------------------------------------------ status rules
def _rows(*records):
    cat = catalogue.load()
    return {r["id"]: r for r in status.requirement_rows(cat, {t.nodeid: t for t in records})}


def test_status_rules():
    rows = _rows(status.TestRecord("t::a", ["4.2.1"], outcome="passed"),
                 status.TestRecord("t::b", ["3.5.1"], outcome="passed"),
                 status.TestRecord("t::c", ["3.5.1"], outcome="error"),
                 status.TestRecord("t::d", ["6.4.2"], outcome="failed"),
                 status.TestRecord("t::e", ["10.6.1"], live=True, outcome="skipped"),
                 status.TestRecord("t::f", ["12.5.1"], outcome="skipped", reason="no docker"),
                 status.TestRecord("t::g", ["11.5.1"], live=True, outcome="skipped"),
                 status.TestRecord("t::h", ["11.5.1"], outcome="deselected"))
    assert {k: rows[k]["status"] for k in ("4.2.1", "3.5.1", "6.4.2", "10.6.1", "12.5.1", "11.5.1", "1.2.5")} == {
        "4.2.1": "met", "3.5.1": "failed", "6.4.2": "gap", "10.6.1": "live-only", "12.5.1": "gap",
        "11.5.1": "gap", "1.2.5": "gap"}
    assert rows["11.5.1"]["why"] == "no passing test: 1 deselected, 1 skipped"


def test_table_digest_follows_outcomes_not_facts():
    one = status.requirement_rows(catalogue.load(), {"t::a": status.TestRecord(
        "t::a", ["4.2.1"], outcome="passed", facts=[{"key": "run", "value": 1}])})
    two = status.requirement_rows(catalogue.load(), {"t::a": status.TestRecord(
        "t::a", ["4.2.1"], outcome="passed", facts=[{"key": "run", "value": 2}])})
    three = status.requirement_rows(catalogue.load(), {"t::a": status.TestRecord(
        "t::a", ["4.2.1"], outcome="failed")})
    assert status.table_digest(one) == status.table_digest(two) != status.table_digest(three)


# ------------------------------------------------------------------ checkov classification
def _check(cid, resource):
    return {"check_id": cid, "check_name": f"name of {cid}", "resource": resource, "guideline": None}


def _sup(cid, resource="all", kind="accepted-risk", expires=None):
    return checkov_gate.Suppression(cid, resource, kind, "because", "test", "me", expires)


def test_classification_counts_suppressed_and_flags_unreviewed_stale_and_expired():
    report = {"summary": {"checkov_version": "3.3.30", "resource_count": 3},
              "results": {"passed_checks": [_check("CKV_1", "a.x")],
                          "failed_checks": [_check("CKV_2", "a.x"), _check("CKV_3", "b.y"),
                                            _check("CKV_4", "b.y"), _check("CKV_2", "c.z")]}}
    result = checkov_gate.classify(report, [
        _sup("CKV_2"), _sup("CKV_3", "b.other"), _sup("CKV_4", "b.y", "weakness", dt.date(2026, 1, 1)),
        _sup("CKV_9")], planned_resources=3, today=dt.date(2026, 6, 1))
    assert result.counts() == {"passed": 1, "failed": 1, "suppressed": 2}
    assert [c["check_id"] for c in result.failed] == ["CKV_3"]
    problems = "\n".join(result.problems())
    assert "FAILED CKV_3 b.y" in problems
    assert "EXPIRED WAIVER CKV_4 b.y" in problems
    assert "STALE SUPPRESSION CKV_3 b.other" in problems and "STALE SUPPRESSION CKV_9 all" in problems
    clean = checkov_gate.classify({**report, "results": {"passed_checks": report["results"]["passed_checks"]}},
                                  [], planned_resources=4)
    assert clean.problems() == ["checkov scanned 3 resources but the plan creates 4: the scan did not "
                                "see the whole stack"]


def test_reviewed_suppression_file_is_complete():
    entries = checkov_gate.load_suppressions()
    assert entries
    for s in entries:
        assert s.kind in checkov_gate.KINDS and len(s.reason) > 40 and s.reviewer and s.evidence
        assert s.kind != "weakness" or s.expires
    assert len({(s.check_id, s.resource) for s in entries}) == len(entries), "duplicate entries"


@pytest.mark.parametrize("body, message", [
    ("suppressions:\n  - check_id: CKV_1\n    resource: all\n    kind: accepted-risk\n    reason: r\n",
     "missing reviewer"),
    ("suppressions:\n  - {check_id: CKV_1, resource: all, kind: weakness, reason: r, reviewer: me}\n",
     "needs expires"),
    ("suppressions:\n  - {check_id: CKV_1, resource: all, kind: because, reason: r, reviewer: me}\n",
     "is not one of"),
])
def test_invalid_suppressions_are_refused_before_the_plan(tmp_path, body, message):
    path = tmp_path / "s.yaml"
    path.write_text(body)
    with pytest.raises(checkov_gate.GateError, match=message):
        checkov_gate.load_suppressions(path)


def test_missing_checkov_venv_says_to_run_setup(tmp_path):
    with pytest.raises(checkov_gate.GateError, match="bin/setup"):
        checkov_gate.checkov_binary(tmp_path)
    assert checkov_gate.checkov_version(tmp_path) == "not installed"


def test_a_secret_is_masked_also_once_escaped_for_xml_or_json():
    import html
    import json
    secret = 'p<w>"d&\\x'
    r = Redactor({secret})
    for form in (secret, html.escape(secret), json.dumps(secret)[1:-1]):
        assert r.text(f"before {form} after") == f"before {MASK} after"
