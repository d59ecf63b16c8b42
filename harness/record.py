"""The deployment record (``<workdir>/<suffix>/deployment.json``): its type, read and written here only.

Whichever process comes next (another xdist worker, the controller's finalizer, a later
``--destroy-stack``, the sweeper) learns from this file what exists and how to remove it, so
it is validated on every read: a file that is not a valid record is a ``RecordError``, never
"destroyed" and never "nothing recorded". The JSON keys are those the harness has always
written; records of earlier versions read unchanged.
"""
from __future__ import annotations

import enum
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from harness.errors import HarnessError

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class Target(enum.StrEnum):
    """Where a deployment goes: the moto sandbox on loopback, or the caller's AWS account."""
    SANDBOX = "sandbox"
    AWS = "aws"


class Status(enum.StrEnum):
    """The states a deployment moves through; anything but DESTROYED may have left resources."""
    DEPLOYING = "deploying"
    DEPLOYED = "deployed"
    DEPLOY_FAILED = "deploy-failed"
    DESTROYING = "destroying"
    DESTROY_FAILED = "destroy-failed"
    DESTROYED = "destroyed"

    @property
    def settled(self) -> bool:
        """Deployed or destroyed: nothing failed and nothing was left half done."""
        return self in (Status.DEPLOYED, Status.DESTROYED)


class RecordError(HarnessError):
    """deployment.json cannot be read as a record; the message names the file and what to do."""


def timestamp() -> str:
    return time.strftime(TIMESTAMP_FORMAT, time.gmtime())


class Deployment(BaseModel):
    """One suffix's deployment. Immutable: each step makes the next record and writes it."""
    # strict: a pid written as "123" or a flag as 1 is a damaged file, not something to guess at.
    model_config = ConfigDict(strict=True, frozen=True, extra="forbid")

    suffix: str
    target: Target
    region: str
    run_id: str
    status: Status
    error: str = ""
    endpoint: str | None = None
    moto_pid: int | None = None
    started_moto: bool = False
    certificate_arn: str | None = None
    config_file: str = ""
    workdir: str = ""
    started_at: str = ""
    updated_at: str = ""
    # The StackConfig deployed, as stack.config.config_to_mapping wrote it.
    config: dict[str, Any] | None = None
    resources: tuple[str, ...] = ()
    sandbox_gone: bool = False

    @property
    def is_sandbox(self) -> bool:
        return self.target is Target.SANDBOX

    def of_run(self, run_id: str) -> bool:
        return self.run_id == run_id

    # ------------------------------------------------------------ the steps
    @classmethod
    def started(cls, *, suffix: str, target: Target, region: str, run_id: str,
                config_file: str, workdir: str) -> Deployment:
        return cls(suffix=suffix, target=target, region=region, run_id=run_id,
                   status=Status.DEPLOYING, config_file=config_file, workdir=workdir,
                   started_at=timestamp())

    def with_started_sandbox(self, endpoint: str, moto_pid: int) -> Deployment:
        return self._next(endpoint=endpoint, moto_pid=moto_pid, started_moto=True)

    def with_endpoint(self, endpoint: str) -> Deployment:
        return self._next(endpoint=endpoint)

    def with_certificate(self, arn: str) -> Deployment:
        return self._next(certificate_arn=arn)

    def with_config(self, mapping: dict[str, Any]) -> Deployment:
        return self._next(config=mapping)

    def deployed(self, resources: Iterable[str]) -> Deployment:
        return self._next(status=Status.DEPLOYED, resources=tuple(resources))

    def deploy_failed(self, error: str, resources: Iterable[str]) -> Deployment:
        return self._next(status=Status.DEPLOY_FAILED, error=error, resources=tuple(resources))

    def destroying(self) -> Deployment:
        return self._next(status=Status.DESTROYING)

    def destroy_failed(self, error: str) -> Deployment:
        return self._next(status=Status.DESTROY_FAILED, error=error)

    def destroyed(self, sandbox_gone: bool = False) -> Deployment:
        return self._next(status=Status.DESTROYED, sandbox_gone=sandbox_gone)

    def _next(self, **changes: Any) -> Deployment:
        # Validated like a read, so a step can never write what a later read would refuse.
        return Deployment.model_validate({**self.model_dump(), **changes})


# ---------------------------------------------------------------- the file
def read_record(path: Path) -> Deployment | None:
    """The record in ``path``, or None if there is no such file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RecordError(_unreadable(path, f"cannot be read ({exc})")) from None
    except UnicodeDecodeError as exc:  # a binary or otherwise damaged file
        raise RecordError(_unreadable(path, f"is not UTF-8 text (byte {exc.object[exc.start]:#04x} "
                                            f"at offset {exc.start})")) from None
    try:
        return Deployment.model_validate_json(text)
    except ValidationError as exc:
        problems = "; ".join(
            (".".join(str(p) for p in e["loc"]) + ": " if e["loc"] else "") + e["msg"]
            for e in exc.errors(include_url=False))
        raise RecordError(_unreadable(path, f"is not a deployment record ({problems})")) from None


def write_record(path: Path, record: Deployment) -> Deployment:
    """Write ``record`` (stamped with the time) so that readers never see half a file."""
    stamped = record._next(updated_at=timestamp())
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(stamped.model_dump(mode="json"), indent=2, sort_keys=True))
    os.replace(tmp, path)
    return stamped


def _unreadable(path: Path, what: str) -> str:
    suffix = path.parent.name
    return (f"{path} {what}. Whatever deployment of suffix {suffix} it recorded may still "
            f"exist. List what carries the suffix with `python -m harness.sweep --suffix "
            f"{suffix} --endpoint URL` (sandbox) or `--target aws --stack-config FILE`, "
            "remove it with --delete, then delete or repair the file")
