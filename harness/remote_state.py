"""State that outlives the runner: ``--stack-state s3://bucket/prefix``.

Per suffix, under ``<prefix>/<suffix>/``:

    terraform.tfstate   Terraform's S3 backend (its own lock file beside it, encryption on)
    deployment.json     the deployment record, copied at every write (harness/record.py)
    run.json            until when it may live and who made it (harness/run_facts.py)
    tf.tar.gz           the applied configuration (cdk.tf.json and its assets, no state)

so that any machine with the location can ``--destroy-stack S``, ``--reuse-stack S`` or
``--list-stacks``. The S3 calls go through boto3's default chain, so the SDKs' standard
settings (``AWS_ENDPOINT_URL``, profiles, OIDC web identity) apply unchanged.
"""
from __future__ import annotations

import io
import json
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from harness.errors import HarnessError
from harness import mirror
from harness.record import Deployment, read_record
from harness.run_facts import ORIGIN_FILE, RunOrigin
from harness.workdir import StackWorkdir, is_plan

STATE_FILE = "terraform.tfstate"
RECORD_FILE = "deployment.json"
CONFIG_BUNDLE = "tf.tar.gz"
# What the bundle leaves out: the provider cache, state (it is in S3), plans (like state they
# hold every value in clear), our CLI config (it names this machine's mirror; the other
# machine writes its own).
_NOT_BUNDLED = {".terraform", ".terraform.lock.hcl.tmp", STATE_FILE, "terraform.rc",
                "terraform.tfstate.backup"}


def bundled(tf_dir: Path) -> list[Path]:
    """What of ``tf_dir`` goes into the configuration bundle: the JSON and its assets."""
    return [path for path in sorted(tf_dir.iterdir())
            if path.name not in _NOT_BUNDLED and not is_plan(path.name)]
# S3's bucket naming rule (general purpose buckets).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX_PART = re.compile(r"[A-Za-z0-9_.-]+")


class RemoteStateError(HarnessError):
    """The message names the option, the rule and what to do."""


class StateLocation(BaseModel):
    """Where state and records live; JSON-serializable, so workers get it inside Options."""
    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> StateLocation:
        parts = urlsplit(url.strip())
        if parts.scheme != "s3":
            raise RemoteStateError(
                f"--stack-state {url!r}: only s3://bucket/prefix is supported (Terraform's S3 "
                "backend with its own lock file); leave the option out to keep state local")
        if parts.query or parts.fragment or parts.username or parts.port:
            raise RemoteStateError(f"--stack-state {url!r}: no query, fragment, user or port; "
                                   "write s3://bucket/prefix")
        if not _BUCKET.fullmatch(parts.hostname or "") or ".." in (parts.hostname or ""):
            raise RemoteStateError(f"--stack-state {url!r}: {parts.netloc!r} is not an S3 bucket "
                                   "name (3-63 lowercase letters, digits, dots and hyphens)")
        segments = [s for s in parts.path.split("/") if s]
        bad = [s for s in segments if not _PREFIX_PART.fullmatch(s) or s in (".", "..")]
        if bad:
            raise RemoteStateError(f"--stack-state {url!r}: prefix segment(s) {bad} are not "
                                   "letters, digits, '_', '.', '-'")
        return cls(bucket=parts.netloc, prefix="/".join(segments))

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def key(self, suffix: str, name: str) -> str:
        return "/".join(p for p in (self.prefix, suffix, name) if p)

    def suffixes_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def backend(self, suffix: str, region: str) -> dict[str, Any]:
        """Terraform's S3 backend for one suffix: one key each, its own lock file, encrypted."""
        return {"s3": {"bucket": self.bucket, "key": self.key(suffix, STATE_FILE),
                       "region": region, "encrypt": True, "use_lockfile": True}}


def s3_client(region: str | None = None) -> Any:
    """boto3's default chain: credentials, profile and AWS_ENDPOINT_URL as the SDKs read them."""
    import boto3  # here: most pytest starts never talk to S3
    from botocore.config import Config
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.session.Session(region_name=region or "us-east-1").client(
        "s3", config=Config(retries={"max_attempts": 8, "mode": "standard"}))


@dataclass(frozen=True)
class RemoteWorkdir(StackWorkdir):
    """A suffix's workdir whose record is mirrored to the state location at every write, and
    read from there when this machine has none (a run elsewhere made it)."""
    location: StateLocation = field(kw_only=True)

    def save_deployment(self, record: Deployment) -> Deployment:
        written = super().save_deployment(record)
        _client().put_object(Bucket=self.location.bucket,
                             Key=self.location.key(self.suffix, RECORD_FILE),
                             Body=self.deployment_file.read_bytes(),
                             ContentType="application/json", ServerSideEncryption="AES256")
        return written

    def deployment(self) -> Deployment | None:
        if not self.deployment_file.is_file():
            body = _get(self.location.bucket, self.location.key(self.suffix, RECORD_FILE))
            if body is None:
                return None
            self.path.mkdir(parents=True, exist_ok=True)
            self.deployment_file.write_bytes(body)
        return read_record(self.deployment_file)

    def exists(self) -> bool:
        return self.deployment() is not None

    @property
    def state_file(self) -> Path:
        # A copy of the remote state for readers of the state file (the integration tests),
        # outside tf/ so that terraform never takes it for local state to migrate.
        return self.path / "remote-copy.tfstate"

    def resources_in_state(self) -> list[str]:
        """Read from the remote state, refreshing the local copy (``state_file``)."""
        body = _get(self.location.bucket, self.location.key(self.suffix, STATE_FILE))
        if body is None:
            self.state_file.unlink(missing_ok=True)
            return []
        self.path.mkdir(parents=True, exist_ok=True)
        self.state_file.write_bytes(body)
        return super().resources_in_state()

    # ------------------------------------------------------------ the configuration
    def attach(self, region: str) -> None:
        """Point the synthesized JSON at the S3 backend and keep a copy of it beside the state."""
        doc = json.loads(self.stack_json.read_text())
        doc.setdefault("terraform", {})["backend"] = self.location.backend(self.suffix, region)
        self.stack_json.write_text(json.dumps(doc, indent=2))
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for path in bundled(self.tf_dir):
                tar.add(path, arcname=path.name)
        _client().put_object(Bucket=self.location.bucket,
                             Key=self.location.key(self.suffix, CONFIG_BUNDLE),
                             Body=buffer.getvalue(), ServerSideEncryption="AES256")

    def restore(self) -> bool:
        """Fetch the applied configuration (and write this machine's CLI config) if missing;
        False if there is none: the deploy stopped before terraform ran, so nothing was applied."""
        if not self.stack_json.is_file():
            body = _get(self.location.bucket, self.location.key(self.suffix, CONFIG_BUNDLE))
            if body is None:
                return False
            self.tf_dir.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
                tar.extractall(self.tf_dir, filter="data")
        if not self.cli_config.is_file():
            mirror.write_cli_config(self.cli_config, mirror.require_mirror())
        return True


def has_state(workdir: StackWorkdir) -> bool:
    """Whether terraform may hold something to destroy: a local state file, or a remote
    location with the applied configuration (fetched here if this machine lacks it)."""
    if isinstance(workdir, RemoteWorkdir):
        return workdir.restore()
    return workdir.state_file.is_file()


def save_origin(workdir: StackWorkdir, origin: RunOrigin) -> None:
    """``run.json`` in the workdir, and beside the state where there is remote state."""
    body = origin.model_dump_json(indent=2).encode()
    (workdir.path / ORIGIN_FILE).write_bytes(body)
    if isinstance(workdir, RemoteWorkdir):
        _client().put_object(Bucket=workdir.location.bucket,
                             Key=workdir.location.key(workdir.suffix, ORIGIN_FILE), Body=body,
                             ContentType="application/json", ServerSideEncryption="AES256")


def workdir_for(root: Path, suffix: str, state_url: str | None) -> StackWorkdir:
    if not state_url:
        return StackWorkdir(root, suffix)
    return RemoteWorkdir(root, suffix, location=StateLocation.parse(state_url))


# ---------------------------------------------------------------- listing
@dataclass(frozen=True)
class ListedStack:
    suffix: str
    record: Deployment | None
    origin: RunOrigin
    problem: str = ""

    def columns(self) -> tuple[str, ...]:
        r, o = self.record, self.origin
        return (self.suffix, r.status.value if r else self.problem or "no record",
                r.started_at if r else "", o.expires_at or "-", o.git_commit or "-",
                o.ci_run or "-")


HEADER = ("suffix", "status", "created", "expires", "git commit", "CI run")


def listed_stacks(location: StateLocation) -> Iterator[ListedStack]:
    client = _client()
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=location.bucket, Prefix=location.suffixes_prefix(), Delimiter="/")
    for page in pages:
        for common in page.get("CommonPrefixes", []):
            suffix = common["Prefix"][len(location.suffixes_prefix()):].rstrip("/")
            yield _listed(location, suffix)


def _listed(location: StateLocation, suffix: str) -> ListedStack:
    origin_body = _get(location.bucket, location.key(suffix, ORIGIN_FILE))
    try:
        origin = RunOrigin.model_validate_json(origin_body) if origin_body else RunOrigin()
    except ValueError:
        origin = RunOrigin()  # the record still lists it; "-" shows what is unknown
    body = _get(location.bucket, location.key(suffix, RECORD_FILE))
    if body is None:
        return ListedStack(suffix, None, origin, "state without a record")
    try:
        return ListedStack(suffix, Deployment.model_validate_json(body), origin)
    except ValueError as exc:
        return ListedStack(suffix, None, origin, f"damaged record ({str(exc).splitlines()[0]})")


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            for row in rows]


def list_lines(location: StateLocation) -> list[str]:
    stacks = list(listed_stacks(location))
    if not stacks:
        return [f"no stacks in {location.url}"]
    return [f"stacks in {location.url}:"] + table([HEADER] + [s.columns() for s in stacks])


# ---------------------------------------------------------------- S3
_CLIENT: list[Any] = []


def _client() -> Any:
    # One client per process: each boto3 client parses the S3 model again (~0.3 s).
    if not _CLIENT:
        _CLIENT.append(s3_client())
    return _CLIENT[0]


def _get(bucket: str, key: str) -> bytes | None:
    client = _client()
    try:
        body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return body


