"""Write the evidence bundle: every file goes through ``write_text`` and so through the redactor."""
from __future__ import annotations

import dataclasses
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from evidence import status as st
from evidence.redact import Redactor

JUNIT = "junit.xml"
REPORT = "report.json"
SUMMARY = "summary.md"
CHECKOV_GATE = "checkov/gate.json"
CHECKOV_RAW = "checkov/results_json.json"
UPGRADE = "upgrade/change.json"
UPGRADE_PLAN = "upgrade/plan.json"
FILES = (JUNIT, REPORT, SUMMARY, CHECKOV_GATE, CHECKOV_RAW, UPGRADE, UPGRADE_PLAN)


def write_text(out_dir: Path, rel: str, text: str, redactor: Redactor) -> Path:
    path = Path(out_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(redactor.text(text))
    return path


def write_json(out_dir: Path, rel: str, doc: Any, redactor: Redactor) -> Path:
    return write_text(out_dir, rel, json.dumps(redactor.data(doc), indent=2, sort_keys=True) + "\n",
                      redactor)


# What a bundle consists of in its folder; anything else there is the user's and is kept.
ENTRIES = frozenset(rel.split("/")[0] for rel in FILES)


def staging_dir(out_dir: Path, run_id: str) -> Path:
    """Where a run builds its bundle: beside ``out_dir`` (the same filesystem, so the swap is
    two renames), hidden, and named for the run."""
    return out_dir.parent / f".{out_dir.name}.staging-{run_id}"


def swap_in(staging: Path, out_dir: Path) -> None:
    """Make the complete bundle in ``staging`` the one in ``out_dir``: the earlier bundle is
    replaced only now, so a run that ends before this point leaves it as it was."""
    old = staging.with_name(staging.name.replace(".staging-", ".old-", 1))
    if out_dir.is_dir():
        for entry in out_dir.iterdir():
            if entry.name not in ENTRIES and not (staging / entry.name).exists():
                entry.rename(staging / entry.name)
        out_dir.rename(old)
    staging.rename(out_dir)
    shutil.rmtree(old, ignore_errors=True)


def read_checkov(out_dir: Path) -> dict[str, Any] | None:
    path = Path(out_dir) / CHECKOV_GATE
    return json.loads(path.read_text()) if path.is_file() else None


def read_upgrade(out_dir: Path, rel: str = UPGRADE) -> dict[str, Any] | None:
    path = Path(out_dir) / rel
    return json.loads(path.read_text()) if path.is_file() else None


# ------------------------------------------------------------------ JUnit
def junit_xml(tests: dict[str, st.TestRecord], meta: dict[str, Any]) -> str:
    records = sorted(tests.values(), key=lambda r: r.nodeid)
    ran = [r for r in records if r.outcome not in ("deselected", "not-run")]
    suite = ET.Element("testsuite", name="pytest", tests=str(len(ran)),
                       failures=str(sum(r.outcome == "failed" for r in ran)),
                       errors=str(sum(r.outcome == "error" for r in ran)),
                       skipped=str(sum(r.outcome in ("skipped", "xfailed") for r in ran)),
                       time=f"{sum(r.duration for r in ran):.3f}",
                       timestamp=meta["started"], hostname="evidence")
    props = ET.SubElement(suite, "properties")
    for key in ("run_id", "git_commit", "target", "suffix", "region", "account_id"):
        ET.SubElement(props, "property", name=key, value=str(meta.get(key, "")))
    for rec in ran:
        path, _, name = rec.nodeid.partition("::")
        case = ET.SubElement(suite, "testcase", classname=path.removesuffix(".py").replace("/", "."),
                             name=name or path, file=path, time=f"{rec.duration:.3f}")
        cprops = ET.SubElement(case, "properties")
        for rid in rec.controls:
            ET.SubElement(cprops, "property", name="pci_dss", value=rid)
        for fact in rec.facts:
            ET.SubElement(cprops, "property", name=f"fact:{fact['key']}",
                          value=json.dumps(fact["value"], sort_keys=True))
        if rec.outcome in ("failed", "error"):
            tag = "failure" if rec.outcome == "failed" else "error"
            ET.SubElement(case, tag, message=rec.reason[:500]).text = rec.message
        elif rec.outcome in ("skipped", "xfailed"):
            ET.SubElement(case, "skipped", message=rec.reason[:500])
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# ------------------------------------------------------------------ summary
ICON = {"met": "MET", "gap": "GAP", "failed": "FAILED", "live-only": "LIVE-ONLY"}
OUTCOME = {"passed": "passed", "failed": "FAILED", "error": "ERROR", "skipped": "skipped",
           "deselected": "not run (deselected)", "not-run": "not run"}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _fact(f: dict[str, Any]) -> str:
    return f"`{f['key']}` = `{json.dumps(f['value'], sort_keys=True)}`"


def _upgrade_section(upgrade: dict[str, Any] | None,
                     plan: dict[str, Any] | None = None) -> list[str]:
    """The change this release makes to the last one (PCI DSS 6.5.1, 6.5.2): read first.
    Two checks, each shown when it ran: the per-commit JSON comparison (upgrade/change.json)
    and the deployed upgrade's plan (upgrade/plan.json)."""
    out = ["## Upgrade (PCI DSS 6.5.1, 6.5.2)", ""]
    if plan is not None:
        out += _plan_lines(plan)
    if upgrade is not None:
        out += _change_lines(upgrade)
    if upgrade is None and plan is None:
        out += ["Not checked in this run (it is `tests/unit/test_upgrade_safety.py`, marker "
                "`unit`, and `pytest -m integration --stack-upgrade-from REF`).", ""]
    return out


def _from_to(record: dict[str, Any]) -> str:
    return (f"From `{_cell(record['base_ref'])}` ({record['base_commit'][:12]}) to "
            f"{_cell(record['head_commit'])}, {record['check']}.")


def _change_lines(upgrade: dict[str, Any]) -> list[str]:
    verdict = upgrade["stateful_verdict"]
    out = [_from_to(upgrade), "",
           f"Resources that hold data ({', '.join(upgrade['stateful_types'])}): "
           + ("**every one keeps its address.**" if verdict == "kept" else
              f"**{len(upgrade['stateful_changes'])} would be replaced or destroyed:** "
              + "; ".join(f"`{c['old_address']}`" + (f" -> `{c['new_address']}`" if c['new_address']
                                                     else " (gone)")
                          for c in upgrade["stateful_changes"]) + "."), "",
           "| change | resources by type |", "|---|---|"]
    for kind in ("added", "changed", "moved", "removed"):
        by_type = upgrade["by_type"][kind]
        out.append(f"| {kind} | " + (", ".join(f"{t} {n}" for t, n in by_type.items()) or "none")
                   + " |")
    return out + [""]


def _plan_lines(plan: dict[str, Any]) -> list[str]:
    """The deployed check: the base release deployed, this commit planned on its state."""
    changes = plan["stateful_changes"]
    out = [_from_to(plan) + " The base release was deployed and this commit planned on its "
           "state; the plan is what terraform would do, including replacements that an "
           "argument forces.", "",
           f"Resources that hold data ({', '.join(plan['stateful_types'])}): "
           + ("**the plan replaces or deletes none of them.**" if not changes else
              f"**the plan would replace or delete {len(changes)}; it was refused, not "
              "applied:** " + "; ".join(
                  f"`{c['address']}` {c['action']}" + (
                      " (forced by " + ", ".join(".".join(str(p) for p in path)
                                                 for path in c["replace_paths"]) + ")"
                      if c["replace_paths"] else "") for c in changes) + "."), "",
           "| plan | resources by type |", "|---|---|"]
    for action in ("create", "update", "replace", "delete"):
        by_type = plan["by_type"][action]
        out.append(f"| {action} | " + (", ".join(f"{t} {n}" for t, n in by_type.items())
                                       or "none") + " |")
    return out + [""]


def summary_md(meta: dict[str, Any], rows: list[dict[str, Any]], checkov: dict[str, Any] | None,
               upgrade: dict[str, Any] | None = None,
               upgrade_plan: dict[str, Any] | None = None) -> str:
    c = st.counts(rows)
    out = [f"# PCI DSS v{meta['standard_version']} release evidence", ""]
    out += _upgrade_section(upgrade, upgrade_plan)
    out += [f"Run `{meta['run_id']}`, {meta['started']} to {meta['finished']} (UTC).", "",
            "| | |", "|---|---|"]
    for label, key in (("git commit", "git_commit"), ("target", "target"), ("suffix", "suffix"),
                       ("account", "account_id"), ("region", "region"),
                       ("deployment", "deployment_status"), ("pytest exit status", "exit_status"),
                       ("command", "command")):
        out.append(f"| {label} | {_cell(meta.get(key, ''))} |")
    out += ["", "## Result", "",
            f"{len(rows)} requirements: **{c['met']} met**, **{c['gap']} gaps**, "
            f"**{c['failed']} failed**, **{c['live-only']} live-only** (need a real AWS account).", ""]
    if checkov:
        k = checkov["counts"]
        out.append(f"Policy gate (checkov {checkov['checkov_version']} on the planned stack): "
                   f"{k['passed']} passed, {k['failed']} failed, {k['suppressed']} suppressed "
                   f"(reviewed, listed below).")
        weak = [x for x in checkov["suppressed"] if x["suppression"]["kind"] == "weakness"]
        if weak:
            out.append("")
            out.append(f"**{len(weak)} of the suppressed findings are real weaknesses waived until a "
                       "fix lands:** " + "; ".join(
                           f"{x['check_id']} on `{x['resource']}` (until {x['suppression']['expires']})"
                           for x in weak) + ".")
    else:
        out.append("Policy gate: not run in this run (it is `tests/unit/test_policy_gate.py`, "
                   "marker `unit`).")
    out += ["", f"Requirement table digest: `{meta['table_digest']}` (equal digests = same "
            "requirements, statuses, tests and outcomes).", ""]
    ordered = st.gaps_first(rows)
    sections = (("Gaps and failures (read first)", ("gap", "failed")),
                ("Live-only: evidenced only on a real AWS account", ("live-only",)),
                ("Met", ("met",)))
    for title, statuses in sections:
        chosen = [r for r in ordered if r["status"] in statuses]
        out += [f"## {title}", ""]
        if not chosen:
            out += ["None.", ""]
            continue
        for r in chosen:
            out += [f"### {r['id']} [{ICON[r['status']]}] {r['title']}", "",
                    f"*{r['area']}*: {r['why']}.", ""]
            if r.get("notes"):
                out += [f"> Note: {r['notes']}", ""]
            for t in r["tests"]:
                line = f"- {OUTCOME.get(t['outcome'], t['outcome'])}: `{t['nodeid']}`"
                if t.get("claim"):
                    line += f": {t['claim']}"
                if t.get("reason"):
                    line += f" ({t['reason']})"
                out.append(line)
                out += [f"  - fact {_fact(f)}" for f in t["facts"]]
            out.append("")
    if checkov:
        out += ["## Policy gate (checkov)", "",
                f"Scanned {checkov['resource_count']} resources of a plan creating "
                f"{checkov['planned_resources']}.", ""]
        if checkov["problems"]:
            out += ["**Gate problems:**", ""] + [f"- {p}" for p in checkov["problems"]] + [""]
        if checkov["suppressed"] or checkov["expired_waivers"]:
            out += ["| check | resource | kind | reason | evidence | reviewer | expires |",
                    "|---|---|---|---|---|---|---|"]
            for s in checkov["suppressed"] + checkov["expired_waivers"]:
                sup = s["suppression"]
                out.append(f"| {s['check_id']} | {_cell(s['resource'])} | {sup['kind']} | "
                           f"{_cell(sup['reason'])} | {_cell(sup['evidence'])} | "
                           f"{_cell(sup['reviewer'])} | {sup['expires'] or ''} |")
            out.append("")
    out += ["## Tools", "", "| tool | version |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in meta["tools"].items()]
    out += ["", "## Files", "", f"- `{JUNIT}`: JUnit XML of every test that ran",
            f"- `{REPORT}`: this run as JSON (requirements, tests, outcomes, facts)",
            f"- `{CHECKOV_GATE}`, `{CHECKOV_RAW}`: the policy gate's classification and checkov's report",
            f"- `{UPGRADE}`: what this release changes in the last one, by type, and the verdict "
            "on what holds data",
            f"- `{UPGRADE_PLAN}`: the deployed upgrade's plan from the base release, by type and "
            "action, and the verdict on what holds data (`--stack-upgrade-from REF`)",
            "", "Secret values are redacted (`[REDACTED]`) in every file of this bundle.", ""]
    return "\n".join(out)


def _clean(rec: st.TestRecord, redactor: Redactor) -> st.TestRecord:
    return dataclasses.replace(rec, reason=redactor.text(rec.reason), message=redactor.text(rec.message),
                               claim=redactor.text(rec.claim), facts=redactor.data(rec.facts))


def publish(out_dir: Path, staging: Path, meta: dict[str, Any], rows: list[dict[str, Any]],
            tests: dict[str, st.TestRecord], redactor: Redactor) -> dict[str, Path]:
    """Write the bundle into ``staging`` (beside what the run's tests put there), then swap it
    in as ``out_dir``; if writing fails, the earlier bundle stays and the staging goes."""
    try:
        written = write_bundle(staging, meta, rows, tests, redactor)
        swap_in(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: out_dir / path.relative_to(staging) for name, path in written.items()}


def write_bundle(out_dir: Path, meta: dict[str, Any], rows: list[dict[str, Any]],
                 tests: dict[str, st.TestRecord], redactor: Redactor) -> dict[str, Path]:
    """Redacts the content before it is escaped into XML, Markdown or JSON (an escaped secret
    would no longer match), and each file's text once more as it is written."""
    out_dir = Path(out_dir)
    meta, rows = redactor.data(meta), redactor.data(rows)
    tests = {k: _clean(v, redactor) for k, v in tests.items()}
    checkov = read_checkov(out_dir)
    upgrade = read_upgrade(out_dir)
    upgrade_plan = read_upgrade(out_dir, UPGRADE_PLAN)
    report = {"meta": meta, "counts": st.counts(rows), "requirements": rows,
              "upgrade": upgrade or {"status": "not checked in this run"},
              "upgrade_plan": upgrade_plan or {"status": "not checked in this run"},
              "requirement_table": st.table(rows),
              "checkov": checkov or {"status": "not run in this run"},
              "tests": [{"nodeid": r.nodeid, "outcome": r.outcome, "controls": r.controls,
                         "live": r.live, "reason": r.reason, "claim": r.claim, "duration": round(r.duration, 3),
                         "facts": r.facts} for r in sorted(tests.values(), key=lambda r: r.nodeid)]}
    return {"junit": write_text(out_dir, JUNIT, junit_xml(tests, meta), redactor),
            "report": write_json(out_dir, REPORT, report, redactor),
            "summary": write_text(out_dir, SUMMARY, summary_md(meta, rows, checkov, upgrade,
                                                                 upgrade_plan),
                                  redactor)}
