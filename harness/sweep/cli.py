"""The command line: ``python -m harness.sweep --suffix S [--target ...] [--delete]``.

Every argument is checked before any client exists; then one bounded probe (STS
GetCallerIdentity, ``bounds.PROBE``) shows that the endpoint or the account answers before
anything is listed. A refusal is one line naming the argument and what to do, exit 2.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import IO, NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from harness.aws_clients import AwsClients
from harness.sweep.bounds import CALLS, PROBE, ROUNDS
from harness.record import RecordError, Target, read_record
from harness.workdir import StackWorkdir
from harness.sweep.core import Found, Sweep, SweepRefused, delete_order
from harness.sweep.expired_cli import expired_main
from stack.config import MIN_SUFFIX_LENGTH as MIN_SUFFIX
from stack.config import ConfigError, loopback_problem, read_config_file, suffix_problem

_ACCOUNT_ID = re.compile(r"^\d{12}$")

USAGE = """\
Lists, and with --delete deletes, what carries a run's suffix (what a crashed run left).

  python -m harness.sweep --suffix S                      # sandbox, dry run: list only
  python -m harness.sweep --suffix S --delete             # delete, in dependency order
  python -m harness.sweep --suffix S --target aws --stack-config=nightly.json [--delete]
  python -m harness.sweep --expired --target aws --stack-config=nightly.json
      [--stack-state s3://bucket/prefix] [--delete]       # every stack past its ExpiresAt
"""

BOUNDS = f"""\
waits, each bounded:
  before anything is listed, STS GetCallerIdentity must answer (else exit 2):
    {PROBE.describe()}
  each listing or delete call:
    {CALLS.describe()}
  deletes, what failed on a dependency tried again:
    {ROUNDS.describe()}

exit codes: 0 nothing left (or dry run done); 1 something remains, or could not be
checked, after --delete; 2 refused (the message names the argument).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's own messages name the argument; a refusal, not a usage dump on stderr.
        raise SweepRefused(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m harness.sweep", description=USAGE, epilog=BOUNDS,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--suffix", help=f"the run's environment suffix ({MIN_SUFFIX}+ characters)")
    which.add_argument("--expired", action="store_true", help="every stack whose ExpiresAt run "
                       "tag (or record in --stack-state) is past: terraform destroy from its "
                       "remote state where there is one, then the sweeper for the rest")
    p.add_argument("--as-of", metavar="UTC", help="with --expired: compare ExpiresAt with "
                   "this UTC time (e.g. 2026-11-30T06:00:00Z) instead of now, to preview what a "
                   "later sweep takes")
    p.add_argument("--stack-state", help="with --expired: the s3://bucket/prefix the runs keep "
                   "their state and records in (default $STACK_STATE)")
    p.add_argument("--target", choices=[t.value for t in Target], default=Target.SANDBOX.value)
    p.add_argument("--endpoint", help="sandbox: the moto server (loopback only); default: the "
                   "one recorded in the suffix's workdir")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--stack-config", help="aws: the stack config whose allowed_account_ids "
                   "this account must be in (default $STACK_CONFIG)")
    p.add_argument("--stack-workdir", default=".stack-work")
    p.add_argument("--delete", action="store_true", help="delete what is found (default: list only)")
    return p


def check_suffix(suffix: str) -> None:
    problem = suffix_problem(suffix)   # the config's own rule: any run's suffix passes
    if problem:
        raise SweepRefused(f"--suffix {suffix!r}" + (" " if problem.startswith("is ")
                                                     else ": ") + problem)


def check_region(region: str) -> None:
    # botocore's own endpoint data: no call, and no profile read (a bad AWS_PROFILE is the
    # probe's to report, naming the target).
    from botocore.loaders import create_loader
    partitions = create_loader().load_data("endpoints")["partitions"]
    if region not in {r for p in partitions for r in p["regions"]}:
        raise SweepRefused(f"--region {region!r} is not an AWS region (e.g. us-east-1)")


def allowed_accounts(config_file: str | None, given_as: str) -> list[str]:
    if not config_file:
        raise SweepRefused("--target aws needs --stack-config FILE (or $STACK_CONFIG) whose "
                           "allowed_account_ids lists the accounts the sweeper may touch")
    try:
        data = read_config_file(config_file)
    except ConfigError as exc:
        raise SweepRefused(f"{given_as}: {exc}") from None
    ids = data.get("allowed_account_ids")
    if not ids:
        raise SweepRefused(f"{given_as} {config_file} has no allowed_account_ids: the "
                           "sweeper refuses to touch an account nobody allow-listed")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _ACCOUNT_ID.match(i)
                                            for i in ids):
        raise SweepRefused(f"{given_as} {config_file}: allowed_account_ids={ids!r} must be a "
                           "list of 12-digit account ids as strings")
    return ids


def recorded_endpoint(workdir: str, suffix: str) -> str:
    """The sandbox endpoint the deployment of ``suffix`` recorded in its workdir."""
    hint = "pass --endpoint URL (the moto server the run deployed into)"
    if Path(workdir).exists() and not Path(workdir).is_dir():
        raise SweepRefused(f"--stack-workdir {workdir} is not a directory; {hint}")
    where = StackWorkdir(Path(workdir), suffix)
    try:
        record = read_record(where.deployment_file)
    except RecordError as exc:
        raise SweepRefused(f"--stack-workdir: {exc}; {hint}") from None
    if record is None:
        raise SweepRefused(f"--target sandbox needs --endpoint URL (no endpoint recorded in "
                           f"{where.path}); {hint}")
    if not record.endpoint:
        raise SweepRefused(f"--stack-workdir: {where.deployment_file} records no sandbox "
                           f"endpoint; {hint}")
    return record.endpoint


def probe(region: str, endpoint: str | None, what: str) -> str:
    """The account id, once STS answers within PROBE's bound; else refused naming ``what``."""
    try:
        return AwsClients(region, endpoint=endpoint, config=PROBE.config()).account_id()
    except (BotoCoreError, ClientError) as exc:
        todo = ("start the sandbox, or pass --endpoint with the address it listens on"
                if endpoint else "check the credentials (AWS_PROFILE, AWS_ACCESS_KEY_ID) and "
                "that AWS's STS endpoint is reachable")
        raise SweepRefused(f"{what} did not answer STS GetCallerIdentity within "
                           f"{PROBE.bound_s:g} s ({type(exc).__name__}: {exc}): {todo}") from None


def clients_for(args: argparse.Namespace) -> AwsClients:
    if args.suffix is not None:
        check_suffix(args.suffix)
    elif Target(args.target) is Target.SANDBOX and not args.endpoint:
        raise SweepRefused("--expired in the sandbox needs --endpoint URL (the moto server)")
    check_region(args.region)
    if Target(args.target) is Target.SANDBOX:
        if args.stack_config:
            raise SweepRefused("--stack-config only applies to --target aws")
        if args.endpoint:
            endpoint, named = args.endpoint, f"--endpoint {args.endpoint}"
        else:
            endpoint = recorded_endpoint(args.stack_workdir, args.suffix)
            named = f"--endpoint (recorded in {args.stack_workdir}/{args.suffix}) {endpoint}"
        problem = loopback_problem(endpoint)
        if problem:
            raise SweepRefused(f"{named}: {problem}")
        probe(args.region, endpoint, named)
        return AwsClients(args.region, endpoint=endpoint, config=CALLS.config())
    if args.endpoint:
        raise SweepRefused("--endpoint only applies to --target sandbox")
    given_as = "--stack-config" if args.stack_config else "$STACK_CONFIG"
    allowed = allowed_accounts(args.stack_config or os.environ.get("STACK_CONFIG"), given_as)
    account = probe(args.region, None, "--target aws: the account")
    if account not in allowed:
        raise SweepRefused(f"refusing to sweep account {account}: not in allowed_account_ids "
                           f"{allowed} of the stack config. Use credentials for an allow-listed "
                           "test account")
    return AwsClients(args.region, config=CALLS.config())


def main(argv: list[str] | None = None, out: IO[str] = sys.stdout) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    try:
        args = parser().parse_args(argv)
        if args.expired:
            return expired_main(args, clients_for(args), say)
        sweep = Sweep(clients_for(args), args.suffix, log=say)
    except (SweepRefused, BotoCoreError) as exc:
        say(f"sweep refused: {exc}")
        return 2
    order = delete_order()

    def listed(found: list[Found]) -> list[Found]:
        return sorted(found, key=lambda f: order.index(f.kind) if f.kind in order else len(order))

    found = sweep.find()
    say(f"{len(found)} resource(s) carry suffix {args.suffix} ({args.target}):")
    for f in listed(found):
        say(f"  {f.line()}")
    for u in sweep.unchecked:
        say(f"  unchecked {u}")
    if not args.delete:
        say("dry run: nothing deleted; add --delete to delete these")
        return 0
    errors = sweep.delete(found)
    left = sweep.find()
    for e in errors:
        say(f"  error {e}")
    if left:
        say(f"{len(left)} resource(s) still carry suffix {args.suffix}:")
        for f in listed(left):
            say(f"  {f.line()}")
        return 1
    if sweep.unchecked:
        say(f"{len(sweep.unchecked)} listing(s) could not be checked after the delete; run "
            "again to see whether anything carries suffix " + args.suffix + ":")
        for u in sweep.unchecked:
            say(f"  unchecked {u}")
        return 1
    say(f"deleted {len(found)} resource(s); nothing carries suffix {args.suffix} any more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
