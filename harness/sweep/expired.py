"""The expiry sweep: ``python -m harness.sweep --expired [--stack-state URL] [--delete]``.

A stack is expired when its ``ExpiresAt`` run tag (read through the Resource Groups Tagging
API) or the record in the state location is past. Dry run by default: the list only. With
``--delete`` each expired stack is destroyed by terraform from its remote state where there is
one, then the sweeper removes whatever still carries its suffix (what a run killed mid-apply
created but never wrote to its state). A stack whose ExpiresAt is still ahead is never touched.
"""
from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.aws_clients import AwsClients
from harness.errors import HarnessError
from harness.options import Options
from harness.record import Status, Target
from harness.remote_state import STATE_FILE, StateLocation, listed_stacks, s3_client
from harness.run_tags import is_expired
from harness.sweep.core import Sweep

EXPIRES_TAG, SUFFIX_TAG = "ExpiresAt", "StackSuffix"
# Terraform's S3 lock file (use_lockfile) sits beside the state.
LOCK_SUFFIX = ".tflock"


@dataclass(frozen=True)
class ExpiredStack:
    suffix: str
    expires_at: str
    tagged: int            # resources the tagging API lists with this suffix
    remote_status: str     # the record's status in the state location, "" if none

    @property
    def has_remote_state(self) -> bool:
        return bool(self.remote_status) and self.remote_status != Status.DESTROYED.value

    def line(self) -> str:
        state = f"remote state ({self.remote_status})" if self.remote_status else "no remote state"
        return f"{self.suffix:<16} expired {self.expires_at}  {self.tagged} tagged  {state}"


def expired_stacks(clients: AwsClients, location: StateLocation | None,
                   now: datetime.datetime) -> list[ExpiredStack]:
    """Every stack past its ExpiresAt, from the tags and from the state location's records."""
    tagged: dict[str, list[str]] = {}
    pages = clients.resourcegroupstaggingapi.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": EXPIRES_TAG}])
    for page in pages:
        for mapping in page["ResourceTagMappingList"]:
            tags = {t["Key"]: t["Value"] for t in mapping.get("Tags", [])}
            if tags.get(SUFFIX_TAG):
                tagged.setdefault(tags[SUFFIX_TAG], []).append(tags[EXPIRES_TAG])
    listed = {s.suffix: s for s in listed_stacks(location)} if location else {}
    records = {suffix: s.record for suffix, s in listed.items()}
    found: list[ExpiredStack] = []
    for suffix in sorted(set(tagged) | set(records)):
        record = records.get(suffix)
        # The latest of what is known: a stack is expired only when every source says so.
        origin = listed[suffix].origin.expires_at if suffix in listed else ""
        expiries = tagged.get(suffix, []) + ([origin] if origin else [])
        if not expiries or not all(is_expired(e, now) for e in expiries):
            continue
        if record is not None and record.status is Status.DESTROYED and suffix not in tagged:
            continue
        found.append(ExpiredStack(suffix, max(expiries), len(tagged.get(suffix, [])),
                                  record.status.value if record else ""))
    return found


def destroy_expired(stack: ExpiredStack, clients: AwsClients, location: StateLocation | None,
                    workdir_root: Path, say: Callable[[str], None]) -> list[str]:
    """Destroy one expired stack; the problems that remain (empty: nothing carries it).

    The inventory after the sweep decides: a run killed mid-apply leaves resources its state
    never recorded, so terraform's destroy alone reports leftovers that the sweep then removes.
    """
    terraform_problems: list[str] = []
    if location is not None and stack.has_remote_state:
        terraform_problems = _terraform_destroy(stack.suffix, location, workdir_root, say)
    sweep = Sweep(clients, stack.suffix, log=say)
    found = sweep.find()
    delete_errors: list[str] = []
    if found:
        say(f"{stack.suffix}: sweeping {len(found)} resource(s) the state did not hold")
        delete_errors = sweep.delete(found)
        found = sweep.find()
    remaining = ([f"still there: {f.line()}" for f in found]
                 + [f"unchecked {u}" for u in sweep.unchecked])
    if remaining:
        return terraform_problems + delete_errors + remaining
    for problem in terraform_problems:
        say(f"{stack.suffix}: {problem} (the sweep removed what terraform left)")
    if location is not None and stack.has_remote_state:
        _record_destroyed(stack.suffix, location, workdir_root)
    return []


def _options(suffix: str, location: StateLocation, root: Path) -> Options:
    return Options(target=Target.AWS, suffix=suffix, workdir_root=root, stack_state=location.url)


def _record_destroyed(suffix: str, location: StateLocation, root: Path) -> None:
    workdir = _options(suffix, location, root).workdir
    record = workdir.deployment()
    if record is not None and record.status is not Status.DESTROYED:
        workdir.save_deployment(record.destroyed())


def _terraform_destroy(suffix: str, location: StateLocation, root: Path,
                       say: Callable[[str], None]) -> list[str]:
    from harness.deployment import Deployer  # the plugin's own destroy, record and all
    from harness.progress import Progress

    _release_stale_lock(suffix, location, say)
    opts = _options(suffix, location, root)
    deployer = Deployer(opts, Progress(opts.workdir, write=say), _no_synth,
                        run_id="expiry-sweep")
    say(f"{suffix}: terraform destroy from {location.url} (workdir {opts.workdir.path})")
    try:
        deployer.destroy()
    except HarnessError as exc:
        return [f"terraform destroy of {suffix}: {str(exc).splitlines()[0]}"]
    return []


def _release_stale_lock(suffix: str, location: StateLocation, say: Callable[[str], None]) -> None:
    """A run killed mid-apply leaves its lock file; past ExpiresAt (at least an hour after the
    run started) no live terraform holds it, and the destroy would wait on it forever."""
    key = location.key(suffix, STATE_FILE) + LOCK_SUFFIX
    client = s3_client()
    try:
        client.head_object(Bucket=location.bucket, Key=key)
    except client.exceptions.ClientError:
        return
    say(f"{suffix}: removing the stale state lock s3://{location.bucket}/{key} (its run is "
        "past ExpiresAt)")
    client.delete_object(Bucket=location.bucket, Key=key)


def _no_synth(*_: object) -> Path:  # pragma: no cover - a destroy never synthesizes
    raise HarnessError("the expiry sweep does not synthesize")
