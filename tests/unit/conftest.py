"""Synthesize once per session (three configs, one child process) and share the JSON."""
from __future__ import annotations

import dataclasses

import pytest

from stack.config import DatabaseSettings, RunTags, SandboxSettings, StackConfig, TlsSettings
from stack.synthesis.synth import PROJECT_ROOT, synthesize_many
from stack.synthesis.cache import SynthCache, caching_off, default_cache_dir
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


@pytest.fixture(scope="session")
def synthesized(request, tmp_path_factory, background_checks) -> dict[str, TfJson]:
    """The four configurations' JSON; terraform's checks of it start right after, in the
    background (tests/speedups.py: BackgroundChecks)."""
    root = tmp_path_factory.mktemp("synth")
    configs = {"prod": PRODUCTION, "imported": IMPORTED, "sandbox": SANDBOX, "tagged": TAGGED}
    # STACK_SYNTH_CACHE=off forces a fresh synth (what the benchmark's cold run does).
    cache = None if caching_off() else SynthCache(default_cache_dir(PROJECT_ROOT))
    paths = synthesize_many([(cfg, root / name) for name, cfg in configs.items()], cache=cache)
    docs = {name: TfJson(path) for name, path in zip(configs, paths, strict=True)}
    needed = {name for item in request.session.items for name in item.fixturenames}
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
