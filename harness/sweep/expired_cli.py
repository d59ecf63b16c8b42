"""``--expired``'s run: list the expired stacks; with --delete destroy each, then report."""
from __future__ import annotations

import argparse
import datetime
import os
from collections.abc import Callable
from pathlib import Path

from harness.aws_clients import AwsClients
from harness.remote_state import RemoteStateError, StateLocation
from harness.sweep.core import SweepRefused
from harness.sweep.expired import destroy_expired, expired_stacks
from stack.config.sections import EXPIRES_AT_FORMAT


def as_of(text: str | None) -> datetime.datetime:
    if not text:
        return datetime.datetime.now(datetime.UTC)
    try:
        return datetime.datetime.strptime(text, EXPIRES_AT_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise SweepRefused(f"--as-of {text!r}: a UTC time like 2026-11-30T06:00:00Z") from None


def expired_main(args: argparse.Namespace, clients: AwsClients,
                 say: Callable[[str], None]) -> int:
    url = args.stack_state or os.environ.get("STACK_STATE")
    try:
        location = StateLocation.parse(url) if url else None
    except RemoteStateError as exc:
        raise SweepRefused(str(exc)) from None
    stacks = expired_stacks(clients, location, as_of(args.as_of))
    where = f" and {location.url}" if location else ""
    say(f"{len(stacks)} expired stack(s) ({args.target}, tags{where}):")
    for stack in stacks:
        say(f"  {stack.line()}")
    if not args.delete:
        say("dry run: nothing destroyed; add --delete to destroy these")
        return 0
    failed = 0
    for stack in stacks:
        problems = destroy_expired(stack, clients, location, Path(args.stack_workdir).resolve(),
                                   say)
        if problems:
            failed += 1
            say(f"{stack.suffix}: NOT fully destroyed:" + "".join(f"\n  {p}" for p in problems))
        else:
            say(f"{stack.suffix}: destroyed; nothing carries the suffix any more")
    return 1 if failed else 0
