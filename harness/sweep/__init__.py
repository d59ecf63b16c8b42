"""Sweeper: one inventory of what a run can leave; find, and on request delete, it.

    python -m harness.sweep --suffix S                      # sandbox, dry run: list only
    python -m harness.sweep --suffix S --delete             # delete, in dependency order
    python -m harness.sweep --suffix S --target aws --stack-config=nightly.json [--delete]

A resource belongs to run S when its name, ARN or one of its tag values holds S as a whole
token (``alb-dev-S``, ``/harness/S``, Name=``vpc-dev-S``), or when it sits inside a VPC that
does (the VPC's subnets, route tables, security groups, gateways). Tags come from the
Resource Groups Tagging API and from each describe call that returns them; the describe
calls, all paginated, also cover what the tagging API misses (IAM, KMS aliases, WAF, launch
templates, RDS groups, security group rules, DNS records, ...). Every tagged ARN that no
describe call claims is still listed, as "tagged, no deleter", so nothing the tagging API
sees goes unreported.

The same inventory is the leftover check after every destroy: ``leftovers(clients, suffix)``
returns a ``LeftoverCheck`` (each leftover with the command that sweeps it, and the listings
that could not be checked).

Modules: ``core`` (Found, Sweep, registries, delete rounds), ``bounds`` (every wait and its
bound), ``leftover`` (the check after a destroy), ``cli`` (the command line), and one module
per service group holding its finder and its deleters: ``network``, ``compute``,
``load_balancing``, ``database``, ``app_services``, ``keys_and_iam``, ``edge_and_storage``.

Safety: dry run unless --delete. The sandbox target takes loopback endpoints only. The aws
target refuses to run unless STS says the caller's account is in ``allowed_account_ids``
of the stack config (the same allow-list the plugin deploys under). Deleting by a suffix
shorter than 4 characters is refused: it would match names that are not the run's.
Before listing, the endpoint or account must answer within ``bounds.PROBE``; each call
carries ``bounds.CALLS``, the delete rounds ``bounds.ROUNDS``.

Exit codes: 0 nothing left (or dry run done), 1 something remains or could not be checked
after --delete, 2 refused.
"""
# The network group registers first: its finder records the matched VPCs that the later
# groups claim resources by. The others register in the order their kinds are deleted.
from harness.sweep import network  # noqa: F401  (registers; must stay first)
from harness.sweep import (app_services, compute, database,  # noqa: F401  (register)
                           edge_and_storage, keys_and_iam, load_balancing)
from harness.sweep.cli import main
from harness.sweep.core import (KINDS, Found, Stage, Sweep, SweepRefused,
                                delete_order)
from harness.sweep.leftover import Leftover, LeftoverCheck, leftovers, sweep_command

# Dependents before what they depend on (the stages' order, then each group's own).
DELETE_ORDER = delete_order()

__all__ = ["DELETE_ORDER", "KINDS", "Found", "Leftover", "LeftoverCheck", "Stage",
           "Sweep", "SweepRefused", "leftovers", "main", "sweep_command"]
