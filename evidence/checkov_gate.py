"""Policy gate: checkov on ``terraform show -json`` of the sandbox stack's plan, offline.

The plan (evidence/gate_plan.py) runs against a moto server on a free loopback port (no
cloud, no credentials but moto's), with the provider from the offline mirror. checkov lives
in its own venv (.venv-checkov, made by evidence/install_checkov.sh) because its pins fight
the project's.
Every failed check must be matched by a reviewed entry of checkov_suppressions.yaml; those
are counted as suppressed, and an entry that no longer matches anything fails the gate so
the file cannot rot.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evidence.catalogue import SAFE_LOADER
from evidence.gate_plan import GateError, plan_json, planned_resource_count
from harness.terraform import version_json

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VENV = ".venv-checkov"
SUPPRESSIONS = Path(__file__).with_name("checkov_suppressions.yaml")
KINDS = {
    "met-another-way": "the control is met by another part of the stack (named in the reason)",
    "sandbox-shape": "fails only in the sandbox/imported-certificate shape that is planned here; "
                     "the production shape meets it (evidence names the test)",
    "not-applicable": "the check's premise does not hold for this resource",
    "accepted-risk": "a reviewed decision: not a PCI DSS requirement, cost named in the reason",
    "weakness": "a real weakness waived until a fix lands in stack/; needs an expiry date",
}
SETUP_HELP = "run bin/setup (or: bash evidence/install_checkov.sh) to create it"


def checkov_binary(root: Path = PROJECT_ROOT) -> Path:
    binary = root / VENV / "bin" / "checkov"
    if not binary.is_file():
        raise GateError(f"checkov is not installed: {binary} is missing; {SETUP_HELP}")
    return binary


def checkov_version(root: Path = PROJECT_ROOT) -> str:
    # Read from the venv's metadata: `checkov --version` costs seconds of imports.
    found = sorted((root / VENV).glob("lib/python*/site-packages/checkov-*.dist-info"))
    return found[-1].name[len("checkov-"):-len(".dist-info")] if found else "not installed"


# ------------------------------------------------------------------ suppressions
@dataclass(frozen=True)
class Suppression:
    check_id: str
    resource: str
    kind: str
    reason: str
    evidence: str
    reviewer: str
    expires: dt.date | None = None

    def matches(self, check: dict[str, Any]) -> bool:
        return check["check_id"] == self.check_id and self.resource in ("all", check["resource"])

    def as_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "resource": self.resource, "kind": self.kind,
                "reason": self.reason, "evidence": self.evidence, "reviewer": self.reviewer,
                "expires": self.expires.isoformat() if self.expires else None}


def load_suppressions(path: Path = SUPPRESSIONS) -> list[Suppression]:
    try:
        doc = yaml.load(Path(path).read_text(), Loader=SAFE_LOADER) or {}
    except FileNotFoundError:
        raise GateError(f"suppression file {path} is missing; restore it from git") from None
    out, problems = [], []
    for i, e in enumerate(doc.get("suppressions") or []):
        where = f"{path.name} entry {i} ({e.get('check_id', '?')})"
        missing = [k for k in ("check_id", "resource", "kind", "reason", "reviewer") if not e.get(k)]
        if missing:
            problems.append(f"{where}: missing {', '.join(missing)}")
            continue
        if e["kind"] not in KINDS:
            problems.append(f"{where}: kind {e['kind']!r} is not one of {', '.join(KINDS)}")
            continue
        expires = e.get("expires")
        if e["kind"] == "weakness" and not expires:
            problems.append(f"{where}: a waived weakness needs expires: YYYY-MM-DD")
            continue
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                problems.append(f"{where}: expires {expires!r} is not YYYY-MM-DD")
                continue
        out.append(Suppression(e["check_id"], e["resource"], e["kind"], " ".join(e["reason"].split()),
                               str(e.get("evidence") or ""), str(e["reviewer"]), expires))
    if problems:
        raise GateError("checkov suppressions are invalid (fix the file and re-run): " + "; ".join(problems))
    return out


# ------------------------------------------------------------------ classification
@dataclass
class GateResult:
    checkov_version: str
    resource_count: int
    planned_resources: int
    passed: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    stale: list[Suppression] = field(default_factory=list)
    expired: list[dict[str, Any]] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {"passed": len(self.passed), "failed": len(self.failed),
                "suppressed": len(self.suppressed)}

    def problems(self) -> list[str]:
        lines = [f"FAILED {c['check_id']} {c['resource']}: {c['check_name']} "
                 f"(guideline: {c.get('guideline') or 'n/a'})" for c in self.failed]
        lines += [f"EXPIRED WAIVER {c['check_id']} {c['resource']}: expired "
                  f"{c['suppression']['expires']}; fix the stack or re-review the waiver"
                  for c in self.expired]
        lines += [f"STALE SUPPRESSION {s.check_id} {s.resource}: matches no failed check any more; "
                  f"remove it from {SUPPRESSIONS.name}" for s in self.stale]
        lines += [f"PARSING ERROR {p}" for p in self.parsing_errors]
        if self.resource_count != self.planned_resources:
            lines.append(f"checkov scanned {self.resource_count} resources but the plan creates "
                         f"{self.planned_resources}: the scan did not see the whole stack")
        return lines

    def as_dict(self) -> dict[str, Any]:
        def brief(c: dict[str, Any]) -> dict[str, Any]:
            return {k: c.get(k) for k in ("check_id", "check_name", "resource", "guideline")}

        return {"checkov_version": self.checkov_version, "counts": self.counts(),
                "resource_count": self.resource_count, "planned_resources": self.planned_resources,
                "failed": [brief(c) for c in self.failed],
                "suppressed": [{**brief(c), "suppression": c["suppression"]} for c in self.suppressed],
                "expired_waivers": [{**brief(c), "suppression": c["suppression"]} for c in self.expired],
                "stale_suppressions": [s.as_dict() for s in self.stale],
                "passed": sorted(f"{c['check_id']} {c['resource']}" for c in self.passed),
                "parsing_errors": self.parsing_errors, "seconds": self.seconds,
                "problems": self.problems()}


def classify(report: dict[str, Any], suppressions: list[Suppression], planned_resources: int,
             today: dt.date | None = None) -> GateResult:
    today = today or dt.date.today()
    results = report.get("results", {})
    summary = report.get("summary", {})
    out = GateResult(checkov_version=str(summary.get("checkov_version", "?")),
                     resource_count=int(summary.get("resource_count", 0)),
                     planned_resources=planned_resources,
                     passed=list(results.get("passed_checks", [])),
                     parsing_errors=[str(p) for p in results.get("parsing_errors", [])])
    used: set[Suppression] = set()
    for check in results.get("failed_checks", []):
        match = next((s for s in suppressions if s.matches(check)), None)
        if match is None:
            out.failed.append(check)
            continue
        used.add(match)
        entry = {**check, "suppression": match.as_dict()}
        (out.expired if match.expires and match.expires < today else out.suppressed).append(entry)
    out.stale = [s for s in suppressions if s not in used]

    def key(c: dict[str, Any]) -> tuple[str, str]:
        return c["check_id"], c["resource"]

    out.failed.sort(key=key)
    out.suppressed.sort(key=key)
    return out


# ------------------------------------------------------------------ scan
def checkov_env() -> dict[str, str]:
    """Ours minus Python's settings (checkov has its own venv), quiet, offline mappings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(LOG_LEVEL="WARNING", BC_SKIP_MAPPING="TRUE")
    return env


def scan_args(plan_file: Path) -> list[str]:
    # --soft-fail: findings are judged here against the suppressions; a non-zero exit then
    # means checkov itself broke.
    return ["-f", str(plan_file), "--framework", "terraform_plan", "--skip-download",
            "--soft-fail", "--compact", "-o", "json"]


def scan(plan_file: Path, root: Path = PROJECT_ROOT, timeout: float = 600) -> dict[str, Any]:
    proc = subprocess.run([str(checkov_binary(root)), *scan_args(plan_file)], capture_output=True,
                          text=True, env=checkov_env(), timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise GateError(f"checkov exited {proc.returncode}; stderr:\n{proc.stderr[-3000:]}")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        raise GateError(f"checkov printed no JSON report; stdout starts {proc.stdout[:500]!r}, "
                        f"stderr:\n{proc.stderr[-2000:]}") from None
    if isinstance(report, list):  # one entry per framework; we asked for one
        report = next((r for r in report if r.get("check_type") == "terraform_plan"), report[0])
    if not report.get("results"):
        raise GateError("checkov found nothing to scan in the plan (empty report: "
                        f"{json.dumps(report)[:300]}); is the plan JSON empty?")
    return report


def _scan_cache_file(stack_dir: Path, root: Path) -> Path | None:
    """Where a scan of exactly this JSON with exactly these tools is kept (None: caching off).

    Suppressions are not part of the key: they are applied afresh to the cached report,
    so a reviewed change to the suppression file takes effect without a new plan.
    """
    from stack.synthesis.cache import caching_off, default_cache_dir
    if caching_off():
        return None
    tf_version = version_json()
    digest = hashlib.sha256()
    for part in ((stack_dir / "cdk.tf.json").read_bytes(), checkov_version(root).encode(),
                 tf_version.encode()):
        digest.update(hashlib.sha256(part).digest())
    return default_cache_dir(root) / "checkov" / f"{digest.hexdigest()[:32]}.json"


def run_gate(stack_dir: Path, workdir: Path, suppressions_path: Path = SUPPRESSIONS,
             root: Path = PROJECT_ROOT) -> tuple[GateResult, dict[str, Any]]:
    """Plan, scan, classify. Returns the classified result and checkov's own report.

    The plan and scan (~20 s) are skipped when this JSON was scanned with the same
    terraform and checkov before (STACK_SYNTH_CACHE=off always scans).
    """
    suppressions = load_suppressions(suppressions_path)  # fails before the slow part
    checkov_binary(root)
    cache_file = _scan_cache_file(stack_dir, root)
    if cache_file is not None and cache_file.is_file():
        cached = json.loads(cache_file.read_text())
        report, planned, seconds = cached["report"], cached["planned"], {"cached scan": 0.0}
    else:
        plan = plan_json(stack_dir, workdir)
        seconds = dict(plan.seconds)
        planned = planned_resource_count(json.loads(plan.json_file.read_text()))
        t = time.monotonic()
        report = scan(plan.json_file, root)
        seconds["checkov"] = time.monotonic() - t
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            cache_file.write_text(json.dumps({"report": report, "planned": planned}))
    result = classify(report, suppressions, planned)
    result.seconds = {k: round(v, 1) for k, v in seconds.items()}
    return result, report
