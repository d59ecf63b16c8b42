"""The terraform CLI, Terratest-style: one log file per call, timings, retried destroy.

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
                      wait_exponential)

from harness.aws_clients import SANDBOX_CREDENTIALS
from harness.progress import Progress
from harness.workdir import StackWorkdir

INSTALL_HELP = ("terraform was not found on PATH: install Terraform 1.11.x "
                "(https://developer.hashicorp.com/terraform/install) and re-run")

# Errors that a later attempt can get past: API throttling, dropped connections, the
# state lock still held by an interrupted apply, AWS's eventual consistency on delete.
TRANSIENT_PATTERNS = tuple(re.compile(p, re.I) for p in (
    r"Throttling", r"Rate exceeded", r"TooManyRequests", r"RequestLimitExceeded",
    r"connection reset", r"connection refused", r"send request failed", r"i/o timeout",
    r"EOF$", r"ServiceUnavailable", r"InternalError", r"Error acquiring the state lock",
    r"DependencyViolation", r"timeout while waiting for", r"is currently in use",
    r"OperationAborted", r"PriorRequestNotComplete",
))


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


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if not found:
        raise TerraformError(INSTALL_HELP, Path("-"))
    return found


def terraform_env(cli_config: Path, sandbox_region: str | None = None) -> dict[str, str]:
    """The environment of every terraform subprocess we start: the offline mirror's CLI
    config, no prompts, no checkpoint call, a lazier Go collector (GO_GC_PERCENT), and never
    TF_LOG (debug logs print request bodies, secrets included). With ``sandbox_region``
    moto's test credentials replace the caller's, in our own subprocesses only."""
    env = dict(os.environ)
    env.pop("TF_LOG", None)
    env.update(TF_CLI_CONFIG_FILE=str(cli_config), TF_IN_AUTOMATION="1", TF_INPUT="0",
               CHECKPOINT_DISABLE="1")
    env.setdefault("GOGC", GO_GC_PERCENT)
    if sandbox_region:
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            env.pop(key, None)
        env.update(AWS_ACCESS_KEY_ID=SANDBOX_CREDENTIALS["aws_access_key_id"],
                   AWS_SECRET_ACCESS_KEY=SANDBOX_CREDENTIALS["aws_secret_access_key"],
                   AWS_DEFAULT_REGION=sandbox_region, AWS_REGION=sandbox_region)
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
                 destroy_flags: tuple[str, ...] = ()):
        self.workdir = workdir
        self.destroy_flags = tuple(destroy_flags)
        self.env = env
        self.progress = progress
        self.destroy_attempts = destroy_attempts
        self.destroy_wait_max = destroy_wait_max
        self.binary = terraform_binary()

    # ------------------------------------------------------------ the commands
    def init(self) -> None:
        self.run("init", ["init", "-input=false", "-no-color"], timeout=600)

    def plan(self, destroy: bool = False) -> None:
        args = ["plan", "-input=false", "-no-color", "-lock-timeout=120s",
                "-out=" + self.workdir.plan_file.name]
        self.run("plan", args + (["-destroy"] if destroy else []), timeout=1200,
                 detail=self._count(("Refreshing state...", "refreshed")))

    def apply(self) -> None:
        """Applies exactly the saved plan, so what was reviewed/logged is what runs."""
        self.run("apply", ["apply", "-input=false", "-no-color", "-lock-timeout=120s",
                           "-auto-approve", self.workdir.plan_file.name],
                 timeout=3600, detail=self._count(("Creation complete", "created"),
                                                  ("Modifications complete", "modified")))

    def destroy(self) -> None:
        """``terraform destroy``, retried with exponential backoff on transient errors."""
        def announce(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            self.progress.say(f"destroy: attempt {state.attempt_number} hit a transient error "
                              f"({exc}); retrying in {wait:.0f}s")

        for attempt in Retrying(stop=stop_after_attempt(self.destroy_attempts),
                                wait=wait_exponential(multiplier=5, max=self.destroy_wait_max),
                                retry=retry_if_exception_type(TransientTerraformError),
                                before_sleep=announce, reraise=True):
            with attempt:
                self.run("destroy", self.destroy_args(), timeout=3600,
                         detail=self._count(("Refreshing state...", "refreshed"),
                                            ("Destruction complete", "destroyed")))

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
            detail: Callable[[], str] | None = None, capture: bool = False) -> str | None:
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
            fh.flush()
            if proc.returncode != 0:  # inside the step, so it is timed as FAILED
                tail = _tail(log)
                transient = any(p.search(tail) for p in TRANSIENT_PATTERNS)
                cls = TransientTerraformError if transient else TerraformError
                raise cls(f"terraform {name} failed (exit {proc.returncode}) after {seconds:.0f}s; "
                          f"full log: {log}\nrepeat with: {self.command_line(args)}\n"
                          f"--- last lines ---\n{tail}", log, transient)
        return out if capture else None

    @staticmethod
    def _stop(proc: subprocess.Popen[str], fh: IO[str]) -> None:
        if proc.poll() is not None:
            return
        fh.write("\n# interrupted: sent SIGINT so terraform saves its state\n")
        fh.flush()
        try:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
