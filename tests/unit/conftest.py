"""Synthesize once per session (three configs, one child process) and share the JSON."""
from __future__ import annotations

import dataclasses

import pytest

from stack.config import DatabaseSettings, RunTags, SandboxSettings, StackConfig, TlsSettings
from stack.synthesis.synth import PROJECT_ROOT, synthesize_many
from stack.synthesis.cache import SynthCache, caching_off, default_cache_dir
from tests.unit import head_start
from tests.unit.terraform_checks import BackgroundChecks
from tests.unit.tfjson import TfJson

# The production-like shape: own domain, both TLS hops verified, alerts, account allow-list.
PRODUCTION = StackConfig(
    environment="prod", environment_suffix="unit01",
    tls=TlsSettings(domain_name="pay.example.com", hosted_zone_id="Z0123456789ABCDEFGHIJ"),
    alert_emails=("oncall@example.com", "security@example.com"),
    allowed_account_ids=("111122223333",), waf_rate_limit=1500,
    database=DatabaseSettings(deletion_protection=True, skip_final_snapshot=False))
# An imported certificate on the ALB, CloudFront's default certificate for viewers.
IMPORTED = StackConfig(
    environment="dev", environment_suffix="unit02",
    tls=TlsSettings(certificate_arn="arn:aws:acm:us-east-1:111122223333:certificate/"
                                    "12345678-1234-1234-1234-123456789012",
                    origin_domain_name="origin.dev.example.com"))
# What the plugin deploys into moto.
SANDBOX = dataclasses.replace(IMPORTED, environment_suffix="unit03",
                              tls=TlsSettings(certificate_arn=IMPORTED.tls.certificate_arn),
                              sandbox=SandboxSettings(endpoint="http://127.0.0.1:5999"))
# Production with the run tags a harness run adds (the other three have none: their JSON is
# what `python -m stack.cli` has always written).
TAGGED = dataclasses.replace(PRODUCTION, environment_suffix="unit04", run=RunTags(
    run_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0", expires_at="2026-11-30T01:00:00Z"))


@pytest.fixture(scope="session", autouse=True)
def children(request, tmp_path_factory):
    """Every selected test's child process, started at the first test (head_start.py)."""
    started = head_start.Children(tmp_path_factory)
    try:
        for item in request.session.items:
            marker = item.get_closest_marker(head_start.MARKER)
            if marker is not None:
                started.start(item.nodeid, *marker.args)
        yield started
    finally:
        started.close()


@pytest.fixture
def child(request, children) -> head_start.Finished:
    return children.finished(request.node.nodeid)


@pytest.fixture(scope="session")
def background_checks(tmp_path_factory):
    checks = BackgroundChecks(tmp_path_factory.mktemp("terraform-checks"))
    yield checks
    checks.close()


@pytest.fixture(scope="session")
def synthesized(request, tmp_path_factory, background_checks) -> dict[str, TfJson]:
    root = tmp_path_factory.mktemp("synth")
    configs = {"prod": PRODUCTION, "imported": IMPORTED, "sandbox": SANDBOX, "tagged": TAGGED}
    # STACK_SYNTH_CACHE=off forces a fresh synth (what the benchmark's cold run does).
    cache = None if caching_off() else SynthCache(default_cache_dir(PROJECT_ROOT))
    needed = {name for item in request.session.items for name in item.fixturenames}
    paths = synthesize_many([(cfg, root / name) for name, cfg in configs.items()], cache=cache,
                            before_synth=lambda pending: background_checks.get_ready(
                                needed, sandbox_is_new=any(cfg is SANDBOX for cfg in pending)))
    docs = {name: TfJson(path) for name, path in zip(configs, paths, strict=True)}
    background_checks.start(needed, docs)
    return docs


@pytest.fixture(scope="session")
def prod(synthesized) -> TfJson:
    return synthesized["prod"]


@pytest.fixture(scope="session")
def imported(synthesized) -> TfJson:
    return synthesized["imported"]


@pytest.fixture(scope="session")
def sandbox(synthesized) -> TfJson:
    return synthesized["sandbox"]


@pytest.fixture(scope="session")
def tagged(synthesized) -> TfJson:
    return synthesized["tagged"]
