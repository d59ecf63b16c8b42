"""The plugin's options: declared for pytest, then validated into one ``Options`` before
anything is created (a problem is one pytest.UsageError naming the option and what to do)."""
from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

import pytest

from harness import upgrade
from harness.errors import HarnessError
from harness.options import Options
from harness.path_checks import directory_problem
from harness.record import RecordError, Target
from harness.remote_state import RemoteStateError, StateLocation, workdir_for
from harness.run_config import planned_config
from harness.run_tags import DEFAULT_TTL, MAX_TTL_TEXT, MIN_TTL_TEXT, TtlError, expires_at, parse_ttl
from stack.config import StackConfig, loopback_problem, suffix_problem

TARGETS = tuple(t.value for t in Target)


def add_options(parser: pytest.Parser) -> None:
    """The plugin's command-line options and ini keys."""
    g = parser.getgroup("stack", "deploy-and-prove the platform stack (harness.plugin)")
    g.addoption("--stack-target", choices=TARGETS, default=None,
                help="sandbox (default): a moto server on 127.0.0.1 started and stopped by the "
                     "plugin; aws: the caller's credentials, only into allowed_account_ids")
    g.addoption("--sandbox-endpoint", metavar="URL",
                help="use this already running moto server (loopback addresses only)")
    g.addoption("--stack-suffix", metavar="S", help="environment suffix (default: random, valid "
                "for every name limit)")
    g.addoption("--keep-stack", action="store_true",
                help="do not destroy at the end; print how to test and destroy it later")
    g.addoption("--reuse-stack", metavar="S", help="test the existing deployment S; destroy nothing")
    g.addoption("--destroy-stack", metavar="S",
                help="only destroy what an earlier run left for suffix S, then exit")
    g.addoption("--stack-workdir", metavar="DIR", help="per-suffix state, plans, logs, outputs "
                "(default: .stack-work under the rootdir; ini: stack_workdir)")
    g.addoption("--stack-config", metavar="FILE", help="stack config JSON (TLS settings and "
                "allowed_account_ids for --stack-target aws; ini: stack_config; env STACK_CONFIG)")
    g.addoption("--stack-upgrade-from", metavar="REF", help="deploy REF's stack (a tag, branch or "
                "commit, synthesized with its own code) first, then upgrade it to this commit: "
                "the deploy fails if the plan replaces or deletes a resource that holds data "
                "(ini: stack_upgrade_from)")
    g.addoption("--stack-ttl", metavar="DURATION", help="how long the stack may live: its "
                f"ExpiresAt tag, for the expiry sweep ({MIN_TTL_TEXT}..{MAX_TTL_TEXT}, e.g. 90m, "
                f"6h; default {DEFAULT_TTL}; ini: stack_ttl)")
    g.addoption("--stack-state", metavar="URL", help="s3://bucket/prefix: Terraform state and the "
                "deployment record in S3, so any machine can --destroy-stack/--reuse-stack/"
                "--list-stacks (default: local; ini: stack_state; env STACK_STATE)")
    g.addoption("--list-stacks", action="store_true",
                help="list every stack the --stack-state location holds, then exit")
    parser.addini("stack_target", "default --stack-target", default=Target.SANDBOX.value)
    parser.addini("stack_ttl", "default --stack-ttl", default=DEFAULT_TTL)
    parser.addini("stack_state", "default --stack-state", default="")
    parser.addini("stack_workdir", "default --stack-workdir", default=".stack-work")
    parser.addini("stack_config", "default --stack-config", default="")
    parser.addini("stack_upgrade_from", "default --stack-upgrade-from", default="")
    parser.addini("stack_destroy_attempts", "terraform destroy attempts on transient errors",
                  default="3")


def random_suffix() -> str:
    # A letter first (RDS and S3 names must start with one), 8 characters in all: well
    # inside the 24 the longest name allows with environment "dev".
    alphabet = string.ascii_lowercase + string.digits
    return "t" + "".join(secrets.choice(alphabet) for _ in range(7))


def parse_options(config: pytest.Config) -> Options:
    """Validate the command line before anything is created; UsageError says what to fix."""
    o = config.option
    target = o.stack_target or config.getini("stack_target") or Target.SANDBOX.value
    if target not in TARGETS:
        raise pytest.UsageError(f"stack_target={target!r}: use one of {', '.join(TARGETS)}")
    # "Given but empty" is an error, never "not given": `--destroy-stack "$SUFFIX"` with an
    # unset variable must not turn into a normal run that deploys a new stack.
    for flag, value in (("--stack-suffix", o.stack_suffix), ("--reuse-stack", o.reuse_stack),
                        ("--destroy-stack", o.destroy_stack),
                        ("--sandbox-endpoint", o.sandbox_endpoint),
                        ("--stack-workdir", o.stack_workdir), ("--stack-config", o.stack_config),
                        ("--stack-upgrade-from", o.stack_upgrade_from),
                        ("--stack-ttl", o.stack_ttl), ("--stack-state", o.stack_state)):
        if value is not None and not value.strip():
            raise pytest.UsageError(f"{flag} was given an empty value: pass a value or leave "
                                    "the option out")
    given = [name for name, value in (("--reuse-stack", o.reuse_stack),
                                      ("--destroy-stack", o.destroy_stack),
                                      ("--keep-stack", o.keep_stack)) if value]
    if len(given) > 1:
        raise pytest.UsageError(f"{' and '.join(given)} cannot be combined: choose one")
    named = o.reuse_stack or o.destroy_stack
    if named and o.stack_suffix and o.stack_suffix != named:
        raise pytest.UsageError(f"--stack-suffix {o.stack_suffix} contradicts {given[0]} {named}")
    suffix_flag = given[0] if named else "--stack-suffix"
    # Checked before the name is used as a path under the workdir (no "../x").
    problem = suffix_problem(named or o.stack_suffix) if (named or o.stack_suffix) else None
    if problem:
        raise pytest.UsageError(f"{suffix_flag} {named or o.stack_suffix!r}: {problem}")
    if o.sandbox_endpoint:
        if Target(target) is not Target.SANDBOX:
            raise pytest.UsageError("--sandbox-endpoint only applies to --stack-target sandbox")
        problem = loopback_problem(o.sandbox_endpoint)
        if problem:
            raise pytest.UsageError(f"--sandbox-endpoint {o.sandbox_endpoint}: {problem}")
    workdir = Path(o.stack_workdir or config.getini("stack_workdir"))
    if not workdir.is_absolute():
        workdir = config.rootpath / workdir
    problem = directory_problem(workdir)
    if problem:
        source = "--stack-workdir" if o.stack_workdir else "ini stack_workdir"
        raise pytest.UsageError(f"{source} {workdir}: {problem}")
    state_url = parse_state(config, Target(target))
    if o.reuse_stack and not workdir_for(workdir, o.reuse_stack, state_url).exists():
        raise pytest.UsageError(f"--reuse-stack {o.reuse_stack}: nothing recorded in "
                                f"{workdir / o.reuse_stack}; recorded suffixes: "
                                f"{recorded_suffixes(workdir)}. Deploy one with --keep-stack")
    if o.reuse_stack:
        try:  # once here, rather than in the fixture of every test
            workdir_for(workdir, o.reuse_stack, state_url).deployment()
        except RecordError as exc:
            raise pytest.UsageError(f"--reuse-stack {o.reuse_stack}: {exc}") from None
    config_file = o.stack_config or config.getini("stack_config") or os.environ.get("STACK_CONFIG", "")
    if config_file and not Path(config_file).is_absolute():
        config_file = str(config.invocation_params.dir / config_file)
    try:
        attempts = int(config.getini("stack_destroy_attempts"))
    except ValueError:
        raise pytest.UsageError("stack_destroy_attempts must be an integer") from None
    if not 1 <= attempts <= 10:
        raise pytest.UsageError(f"stack_destroy_attempts={attempts}: 1..10 (each failed "
                                "attempt waits up to 60 s)")
    upgrade_ref = o.stack_upgrade_from or config.getini("stack_upgrade_from")
    if upgrade_ref and o.reuse_stack:
        raise pytest.UsageError("--stack-upgrade-from deploys its base and then upgrades it; "
                                "--reuse-stack deploys nothing: choose one")
    try:
        upgrade_from = upgrade.resolve_base(upgrade_ref) if upgrade_ref else None
    except HarnessError as exc:
        raise pytest.UsageError(str(exc)) from None
    return Options(target=Target(target), sandbox_endpoint=o.sandbox_endpoint,
                   suffix=named or o.stack_suffix or random_suffix(), keep=o.keep_stack,
                   reuse=bool(o.reuse_stack), workdir_root=workdir,
                   config_file=Path(config_file) if config_file else None,
                   destroy_attempts=attempts, upgrade_from=upgrade_from,
                   expires_at=run_expiry(config), stack_state=state_url)


def run_expiry(config: pytest.Config) -> str:
    """ExpiresAt for this run, computed once here (the controller) and handed to the workers."""
    text = config.option.stack_ttl or config.getini("stack_ttl") or DEFAULT_TTL
    try:
        return expires_at(parse_ttl(text))
    except TtlError as exc:
        raise pytest.UsageError(str(exc)) from None


def parse_state(config: pytest.Config, target: Target) -> str | None:
    """--stack-state, validated; None keeps the state in the local workdir."""
    url = (config.option.stack_state or config.getini("stack_state")
           or os.environ.get("STACK_STATE", ""))
    if not url:
        return None
    if target is Target.SANDBOX:
        raise pytest.UsageError(f"--stack-state {url}: only with --stack-target aws (a sandbox "
                                "lives in one moto process, so its state stays beside it)")
    try:
        return StateLocation.parse(url).url
    except RemoteStateError as exc:
        raise pytest.UsageError(str(exc)) from None


def plan_config(config: pytest.Config, opts: Options, run_id: str = "") -> StackConfig:
    """The run's StackConfig, built once (suffix limits, config file, the aws allow-list)."""
    o = config.option
    try:
        return planned_config(opts, run_id)
    except HarnessError as exc:
        if o.stack_suffix or o.reuse_stack:
            flag = "--reuse-stack" if o.reuse_stack else "--stack-suffix"
            raise pytest.UsageError(f"{flag} {opts.suffix}: {exc}") from None
        raise pytest.UsageError(str(exc)) from None


def recorded_suffixes(root: Path) -> str:
    return ", ".join(sorted(p.parent.name for p in root.glob("*/deployment.json"))) or "(none)"


