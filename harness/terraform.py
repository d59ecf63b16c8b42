"""The terraform CLI, Terratest-style: one log file per call, timings, bounded retries.

Every call runs in the deployment's ``tf/`` folder with our own CLI config (the offline
mirror) and an environment built by the caller (sandbox credentials only in sandbox
mode). Output goes straight to ``logs/NNN-<cmd>.log``; the terminal gets progress lines.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import IO, Any
from collections.abc import Callable

from pydantic import BaseModel, TypeAdapter
from tenacity import (RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt,
                      stop_after_delay, wait_exponential)

from harness import signals
from harness.aws_clients import SANDBOX_CREDENTIALS
from harness.progress import Progress
from harness.workdir import StackWorkdir
from stack.terraform_version import MIN_TERRAFORM, MIN_TERRAFORM_TEXT


INSTALL_HELP = (f"terraform was not found on PATH: install Terraform >= {MIN_TERRAFORM_TEXT} "
                "(https://developer.hashicorp.com/terraform/install) and re-run")

# init, plan and apply: at most this many attempts on a transient error, and no new attempt
# starts once this many seconds have passed since the first (backoff 5, 10, 20 ... <= 60 s).
RETRY_ATTEMPTS = 3
RETRY_WITHIN_SECONDS = 900.0
# Per destroy attempt: the 8-minute wait on an instance profile (issue #14) must end, and
# after it the leftover check lists what is left with the command that sweeps it.
DESTROY_TIMEOUT_SECONDS = 900.0
# A stopped run's terraform gets SIGINT and this long to write its state, then SIGTERM.
STOP_GRACE_SECONDS = 60.0

# Errors that a later attempt can get past: API throttling, dropped connections, the
# state lock still held by an interrupted apply, AWS's eventual consistency on delete.
TRANSIENT_PATTERNS = tuple(re.compile(p, re.I) for p in (
    r"Throttling", r"Rate exceeded", r"TooManyRequests", r"RequestLimitExceeded",
    r"connection reset", r"connection refused", r"send request failed", r"i/o timeout",
    r"use of closed network connection",
    r"EOF$", r"ServiceUnavailable", r"InternalError", r"Error acquiring the state lock",
    r"DependencyViolation", r"timeout while waiting for", r"is currently in use",
    r"OperationAborted", r"PriorRequestNotComplete",
))
# Not retried: moto's InvalidPermission.Duplicate. It means an SDK retry created the rule
# twice; the first copy is in AWS but not in the state, so every new attempt hits it again.


# Sandbox only: the state was written moments ago by our own apply into a moto server
# nobody else changes, and after the destroy the leftover check lists anything still
# carrying the suffix. Refreshing all ~126 resources first (one provider read each, ~15
# calls per S3 bucket) is time and nothing else (measured: bench/sandbox_cycle.py).
# On real AWS the destroy keeps terraform's refresh: drift is real there.
SANDBOX_DESTROY_FLAGS = ("-refresh=false",)

# Go's collector for terraform and the provider it starts (the variable is inherited). The
# provider builds ~1,500 resource schemas in every process it is started in, and at the
# default (100) the collector runs through it again and again: a cold unit run's terraform
# CPU fell 71 -> 58 s and its wall 54.6 -> 48.9 s (2 runs each, 2 cores) at 400, peak memory
# per process ~330 -> ~540 MB. A GOGC the caller set is kept.
GO_GC_PERCENT = "400"


class OutputValue(BaseModel):
    """One entry of ``terraform output -json``."""
    value: Any
    sensitive: bool = False
    type: Any = None


_OUTPUTS = TypeAdapter(dict[str, OutputValue])


class TerraformError(RuntimeError):
    def __init__(self, message: str, log: Path, transient: bool = False):
        super().__init__(message)
        self.log = log
        self.transient = transient


class TransientTerraformError(TerraformError):
    pass


def parse_version(text: str) -> tuple[int, ...] | None:
    """(1, 11, 4) from "1.11.4" (or "v1.11.4-beta1"); None if it is not a version."""
    match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    return tuple(int(g) for g in match.groups() if g is not None) if match else None


def version_problem(found: str) -> str:
    """Why the terraform found cannot run the stack ("" if it can)."""
    parsed = parse_version(found)
    if parsed is not None and parsed[:2] >= MIN_TERRAFORM:
        return ""
    return (f"terraform {found} is too old: the stack needs terraform >= {MIN_TERRAFORM_TEXT} "
            "(ephemeral resources and write-only arguments). Install a newer release from "
            "https://developer.hashicorp.com/terraform/install and put it first on PATH")


def require_version() -> None:
    """Refuses a missing or too old terraform, naming the version found and the one needed."""
    terraform_binary()
    problem = version_problem(version())
    if problem:
        raise TerraformError(problem, Path("-"))


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise TerraformError(INSTALL_HELP, Path("-"))
    return found


# Whatever could send a sandbox terraform to another account or endpoint: a profile, a
# session token, credential/config files, a web identity, an endpoint override.
AMBIENT_AWS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
               "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
               "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
               "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def terraform_env(cli_config: Path, sandbox_region: str | None = None,
                  sandbox_endpoint: str | None = None) -> dict[str, str]:
    """The environment of every terraform subprocess we start: the offline mirror's CLI
    config, no prompts, no checkpoint call, a lazier Go collector (GO_GC_PERCENT), and never
    TF_LOG (debug logs print request bodies, secrets included). With ``sandbox_region``
    moto's test credentials replace the caller's, in our own subprocesses only, and every
    service's endpoint (AWS_ENDPOINT_URL, also for any the provider block does not name) is
    ``sandbox_endpoint``; a sandbox without an endpoint is refused."""
    env = dict(os.environ)
    env.pop("TF_LOG", None)
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", TF_INPUT="0",
               CHECKPOINT_DISABLE="1")
    env.setdefault("GOGC", GO_GC_PERCENT)
    if sandbox_region:
        if sandbox_endpoint is None:
            raise TerraformError("a sandbox terraform needs the sandbox endpoint: without it the "
                                 "provider would reach AWS with whatever credentials are around. "
                                 "Pass --sandbox-endpoint or let the plugin start moto", Path("-"))
        for key in (*AMBIENT_AWS, *(k for k in env if k.startswith("AWS_ENDPOINT_URL"))):
            env.pop(key, None)
        env.update(AWS_ACCESS_KEY_ID=SANDBOX_CREDENTIALS["aws_access_key_id"],
                   AWS_SECRET_ACCESS_KEY=SANDBOX_CREDENTIALS["aws_secret_access_key"],
                   AWS_DEFAULT_REGION=sandbox_region, AWS_REGION=sandbox_region,
                   AWS_ENDPOINT_URL=sandbox_endpoint, AWS_EC2_METADATA_DISABLED="true")
    return env


@functools.lru_cache(maxsize=1)
def version_json() -> str:
    """`terraform version -json` as printed ("" without terraform): cache keys hash it."""
    if shutil.which("terraform") is None:
        return ""
    return subprocess.run(["terraform", "version", "-json"], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "CHECKPOINT_DISABLE": "1"}).stdout


def version() -> str:
    """The terraform version number, "not installed", or the raw text if it is not JSON."""
    out = version_json()
    if not out:
        return "not installed"
    try:
        return str(json.loads(out)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        return out


def ends_transient(log: Path) -> bool:
    """Whether a failed call's log ends with an error a later attempt can get past."""
    return _transient(_tail(log))


def _transient(tail: str) -> bool:
    return any(p.search(tail) for p in TRANSIENT_PATTERNS)


def _tail(path: Path, lines: int = 30, width: int = 400) -> str:
    # Terraform quotes the offending source line; in minified JSON that is the whole file.
    try:
        return "\n".join(line if len(line) <= width else line[:width] + " [...]"
                         for line in path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Terraform:
    def __init__(self, workdir: StackWorkdir, env: dict[str, str], progress: Progress,
                 destroy_attempts: int = 3, destroy_wait_max: float = 60.0,
                 destroy_flags: tuple[str, ...] = (), backoff_base: float = 5.0):
        self.workdir = workdir
        self.destroy_flags = tuple(destroy_flags)
        self.env = env
        self.progress = progress
        self.destroy_attempts = destroy_attempts
        self.destroy_wait_max = destroy_wait_max
        self.backoff_base = backoff_base
        self.binary = terraform_binary()
        self.last_exit = 0

    # ------------------------------------------------------------ the commands
    def init(self) -> None:
        self._retried("init", lambda _n: self.run("init", ["init", "-input=false", "-no-color"],
                                               timeout=600))

    def plan(self, destroy: bool = False) -> None:
        args = ["plan", "-input=false", "-no-color", "-lock-timeout=120s",
                "-out=" + self.workdir.plan_file.name]
        self._retried("plan", lambda _n: self.run(
            "plan", args + (["-destroy"] if destroy else []), timeout=1200,
            detail=self._count(("Refreshing state...", "refreshed"))))

    def apply(self) -> None:
        """``apply -auto-approve``: plan and apply in one command, whose log holds the plan
        that ran. One command instead of ``plan -out`` + ``apply tfplan`` saves a terraform
        start (schemas, a validate walk): ~7 s a deploy (docs/harness.md). A transient error
        applies again: the state records what was made, so the new plan holds only the rest."""
        self._retried("apply", lambda _n: self.run(
            "apply", ["apply", "-input=false", "-no-color", "-lock-timeout=120s", "-auto-approve"],
            timeout=3600, detail=self._apply_count()))

    def apply_saved(self) -> None:
        """Applies exactly the saved plan, for a plan something judged first (the upgrade check).

        A transient error plans again and applies that: after a partial apply the saved plan
        is stale, and the state records what was made, so the new plan holds only the rest."""
        def attempt(number: int) -> None:
            if number > 1:
                self.plan()
            self.run("apply", ["apply", "-input=false", "-no-color", "-lock-timeout=120s",
                               "-auto-approve", self.workdir.plan_file.name],
                     timeout=3600, detail=self._apply_count())
        self._retried("apply", attempt)

    def _apply_count(self) -> Callable[[], str]:
        return self._count(("Creation complete", "created"), ("Modifications complete", "modified"))

    def plan_detailed(self, plan_file: str) -> int:
        """``plan -detailed-exitcode -refresh=true``: 0 no changes, 2 changes (else raises)."""
        args = ["plan", "-input=false", "-no-color", "-lock-timeout=120s", "-refresh=true",
                "-detailed-exitcode", "-out=" + plan_file]
        self._retried("idempotency-plan", lambda _n: self.run(
            "idempotency-plan", args, timeout=1200, ok_codes=(0, 2),
            detail=self._count(("Refreshing state...", "refreshed"))))
        return self.last_exit

    def show_json(self, plan_file: str) -> str:
        """``show -json`` of a saved plan; the log records its size only (values may be secret)."""
        return self.run("show", ["show", "-json", "-no-color", plan_file], timeout=300,
                        capture=True) or "{}"

    def destroy(self) -> None:
        """``terraform destroy``, retried with exponential backoff on transient errors; each
        attempt ends after DESTROY_TIMEOUT_SECONDS."""
        self._retried("destroy", lambda _n: self.run(
            "destroy", self.destroy_args(), timeout=DESTROY_TIMEOUT_SECONDS,
            detail=self._count(("Refreshing state...", "refreshed"),
                               ("Destruction complete", "destroyed"))),
            attempts=self.destroy_attempts)

    def _retried(self, name: str, call: Callable[[int], object],
                 attempts: int = RETRY_ATTEMPTS) -> None:
        """Runs ``call(attempt_number)`` with exponential backoff
        on TransientTerraformError: at most ``attempts`` tries within RETRY_WITHIN_SECONDS."""
        def announce(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            first = str(exc).splitlines()[0] if exc else ""
            wait = state.next_action.sleep if state.next_action else 0.0
            self.progress.say(f"{name}: attempt {state.attempt_number} hit a transient error "
                              f"({first}); retrying in {wait:.0f}s (at most {attempts} attempts)")

        for attempt in Retrying(stop=stop_after_attempt(attempts) | stop_after_delay(
                                    RETRY_WITHIN_SECONDS),
                                wait=wait_exponential(multiplier=self.backoff_base,
                                                       max=self.destroy_wait_max),
                                retry=retry_if_exception_type(TransientTerraformError),
                                before_sleep=announce, reraise=True):
            with attempt:
                call(attempt.retry_state.attempt_number)

    def output(self) -> dict[str, OutputValue]:
        """All outputs by name (value and whether it is sensitive); the log keeps only names."""
        proc = self.run("output", ["output", "-json", "-no-color"], timeout=300, capture=True)
        return _OUTPUTS.validate_json(proc or "{}")

    def destroy_args(self) -> list[str]:
        return ["destroy", "-input=false", "-no-color", "-lock-timeout=300s", "-auto-approve",
                *self.destroy_flags]

    def command_line(self, args: list[str]) -> str:
        """The exact shell command a human can paste to repeat a call (no secrets in it)."""
        env = f"TF_CLI_CONFIG_FILE={shlex.quote(str(self.workdir.cli_config))}"
        if self.env.get("AWS_ACCESS_KEY_ID") == "testing":
            env += " AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_DEFAULT_REGION=" \
                   + self.env.get("AWS_DEFAULT_REGION", "us-east-1")
        return f"{env} terraform -chdir={shlex.quote(str(self.workdir.tf_dir))} {shlex.join(args)}"

    # ------------------------------------------------------------ the runner
    def _count(self, *markers: tuple[str, str]) -> Callable[[], str]:
        """Progress detail read from the running call's log, e.g. '40 refreshed, 12 destroyed'."""
        def detail() -> str:
            logs = sorted(self.workdir.logs_dir.glob("*.log"))
            if not logs:
                return ""
            text = logs[-1].read_text(errors="replace")
            return ", ".join(f"{text.count(marker)} {label}" for marker, label in markers)
        return detail

    def run(self, name: str, args: list[str], timeout: float,
            detail: Callable[[], str] | None = None, capture: bool = False,
            ok_codes: tuple[int, ...] = (0,)) -> str | None:
        """Runs one call; its stdout with ``capture``; its exit code (one of ``ok_codes``)
        is kept in ``last_exit``."""
        log = self.workdir.next_log(name)
        started = time.monotonic()
        with self.progress.step(name, detail), open(log, "w") as fh:
            fh.write(f"$ {self.command_line(args)}\n\n")
            fh.flush()
            # Own session: a Ctrl-C on the terminal reaches us, and we hand terraform one
            # SIGINT and wait, so it stops cleanly and writes its state before we destroy.
            proc = subprocess.Popen([self.binary, *args], cwd=self.workdir.tf_dir, env=self.env,
                                    stdout=subprocess.PIPE if capture else fh,
                                    stderr=fh if capture else subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, text=True)
            try:
                out, _ = proc.communicate(timeout=timeout)
            except BaseException as exc:
                with signals.deferred(self.progress.say, f"stopping terraform {name}",
                                      reraise=False):
                    self._stop(proc, fh)
                if isinstance(exc, subprocess.TimeoutExpired):
                    raise TerraformError(f"terraform {name} did not finish in {timeout:.0f}s; "
                                         f"log: {log}", log) from None
                raise
            seconds = time.monotonic() - started
            if capture:
                # Outputs may hold secrets: the log records that they were read, not what.
                fh.write(f"(stdout withheld: {len(out or '')} bytes of JSON)\n")
            fh.write(f"\n# exit {proc.returncode} after {seconds:.1f}s\n")
            self.last_exit = proc.returncode
            fh.flush()
            if proc.returncode not in ok_codes:  # inside the step, so it is timed as FAILED
                tail = _tail(log)
                transient = _transient(tail)
                cls = TransientTerraformError if transient else TerraformError
                raise cls(f"terraform {name} failed (exit {proc.returncode}) after {seconds:.0f}s; "
                          f"full log: {log}\nrepeat with: {self.command_line(args)}\n"
                          f"--- last lines ---\n{tail}", log, transient)
        return out if capture else None

    @staticmethod
    def _stop(proc: subprocess.Popen[str], fh: IO[str]) -> None:
        if proc.poll() is not None:
            return
        stop_child(proc, fh)


def stop_child(proc: subprocess.Popen[str], fh: IO[str]) -> None:
    """SIGINT so terraform saves its state, STOP_GRACE_SECONDS for it, then SIGTERM, and
    SIGKILL if even that is ignored for 10 s (the caller defers further signals meanwhile)."""
    steps = ((signal.SIGINT, STOP_GRACE_SECONDS), (signal.SIGTERM, 10.0), (signal.SIGKILL, None))
    for sig, grace in steps:
        fh.write(f"\n# interrupted: sent {sig.name}"
                 + (" so terraform saves its state\n" if sig is signal.SIGINT else "\n"))
        fh.flush()
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
        except ProcessLookupError:
            return
