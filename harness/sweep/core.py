"""The inventory's core: what was found (``Found``), the registries each service group fills
with its finder and its deleters, the matching of a run's suffix, and the delete rounds.

A group module registers one finder (``@finder``) and, per resource kind it finds, one
deleter (``@deleter(kind, Stage.X)``) with the error codes that mean "already gone". The
delete order is the stages' order, and within a stage the order the group registers its
kinds in: adding a resource kind touches the group's module only.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, TypeVar

import jmespath
from botocore.exceptions import BotoCoreError, ClientError

from harness.aws_clients import AwsClients
from harness.suffix_match import Matcher
from harness.sweep.bounds import MAX_PAGES, ROUNDS, RoundsBound
from stack.config import suffix_problem

# Shorter suffixes would match names of other runs: the sweeper deletes only above this.

# name: its name or ARN; tag: a tag value, or the tagging API listed it; vpc: it sits in a
# matched VPC; alias: a matched alias points at it; member: it belongs to a matched cluster.
Why = Literal["name", "tag", "vpc", "alias", "member"]


class SweepRefused(RuntimeError):
    """The sweep will not run against this target; the message says what to change."""


class ListingIncomplete(RuntimeError):
    """A listing that did not end within its bound; reported as unchecked, never as empty."""


class Stage(IntEnum):
    """Delete order: dependents before what they depend on."""
    EDGE = 1
    COMPUTE = 2
    LOAD_BALANCING = 3
    DATABASE = 4
    APP_SERVICES = 5
    KEYS_AND_IAM = 6
    NETWORK = 7
    STORAGE = 8
    CERTIFICATES = 9


D = TypeVar("D")


@dataclass
class Found:
    kind: str
    id: str                 # what the delete call takes
    label: str              # what a human recognizes (name, ARN)
    why: Why = "name"
    arn: str = ""
    # The group's own record of what its deleter needs besides the id (a mutable dataclass:
    # a deleter clears what it already undid, so a repeated round does not undo it again).
    detail: object = field(default=None, compare=False)

    def line(self) -> str:
        return f"{self.kind:<28} {self.label}  (by {self.why})"

    def detail_as(self, kind: type[D]) -> D:
        if not isinstance(self.detail, kind):
            raise TypeError(f"{self.kind} {self.label}: detail is {self.detail!r}, "
                            f"the finder must record a {kind.__name__}")
        return self.detail


Finder = Callable[["Sweep", list[Found]], None]
Deleter = Callable[["Sweep", Found], object]


@dataclass(frozen=True)
class Kind:
    name: str
    stage: Stage
    delete: Deleter
    gone_codes: frozenset[str]   # delete errors that mean it is already gone
    seq: int                     # registration order, the order within a stage


FINDERS: list[Finder] = []
KINDS: dict[str, Kind] = {}
# What every service answers for an id that no longer exists.
_GONE_EVERYWHERE = frozenset({"ResourceNotFoundException", "NotFoundException"})


def finder(fn: Finder) -> Finder:
    FINDERS.append(fn)
    return fn


def deleter(kind: str, stage: Stage, *gone_codes: str) -> Callable[[Deleter], Deleter]:
    def register(fn: Deleter) -> Deleter:
        if kind in KINDS:
            raise ValueError(f"resource kind {kind!r} is registered twice")
        KINDS[kind] = Kind(kind, stage, fn, frozenset(gone_codes) | _GONE_EVERYWHERE, len(KINDS))
        return fn
    return register


def delete_order() -> list[str]:
    return sorted(KINDS, key=lambda k: (KINDS[k].stage, KINDS[k].seq))


def pages(client: Any, op: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` (a JMESPath such as ``DistributionList.Items``) of every page."""
    if client.can_paginate(op):
        results = client.get_paginator(op).paginate(**kwargs).search(f"{key}[]")
        return [item for item in results if item is not None]
    return list(jmespath.search(f"{key}[]", getattr(client, op)(**kwargs)) or [])


def marker_pages(call: Callable[..., Any], key: str, **kwargs: Any) -> list[Any]:
    """Listings without a boto3 paginator that hand out ``NextMarker`` (WAFv2)."""
    items: list[Any] = []
    seen: set[str] = set()
    marker: dict[str, str] = {}
    for _ in range(MAX_PAGES):
        page = call(**kwargs, **marker)
        items.extend(page.get(key) or [])
        following = page.get("NextMarker")
        if not following or following in seen:
            return items
        seen.add(following)
        marker = {"NextMarker": following}
    raise ListingIncomplete(f"{key}: more than {MAX_PAGES} pages, each with a new NextMarker; "
                            "the listing was cut off there")


def error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def name_tag(tags: Iterable[dict[str, Any]] | None) -> str:
    return next((str(t["Value"]) for t in tags or [] if t.get("Key") == "Name"), "")


class Sweep:
    """One inventory of what carries ``suffix``: ``find()`` lists, ``delete()`` removes.

    Each finder appends to the list it is given; ``vpcs`` (matched VPCs, set by the network
    group, which runs first) lets the later groups claim what sits inside them, ``gone``
    collects what the describe calls show as already going away (terminated instances,
    deleted NAT gateways, keys pending deletion, secrets scheduled for deletion): the tagging
    API still lists those for a while and they are not leftovers.
    """

    def __init__(self, clients: AwsClients, suffix: str, log: Callable[[str], None] = print):
        problem = suffix_problem(suffix)   # the config's own rule: any run's suffix passes
        if problem:
            raise SweepRefused(f"--suffix {suffix!r}" + (" " if problem.startswith("is ")
                                                         else ": ") + problem)
        self.c = clients
        self.match = Matcher(suffix)
        self.suffix = suffix
        self.log = log
        self.unchecked: list[str] = []
        self.tagged: dict[str, dict[str, str]] = {}
        self.vpcs: set[str] = set()
        self.gone: set[str] = set()

    # ------------------------------------------------------------------ find
    def find(self) -> list[Found]:
        out: list[Found] = []
        self.unchecked, self.vpcs, self.gone = [], set(), set()
        self.tagged = self._tagged_arns()
        for find in FINDERS:
            try:
                find(self, out)
            except (ClientError, BotoCoreError, ListingIncomplete) as exc:
                self.unchecked.append(f"{find.__module__.rsplit('.', 1)[-1]}: {exc}")
        claimed = {f.arn for f in out if f.arn} | {f.id for f in out}
        for arn in sorted(self.tagged):
            if arn in self.gone or re.split(r"[/:]", arn)[-1] in self.gone:
                continue
            if arn not in claimed and not any(arn.endswith(c) or c.endswith(arn) for c in claimed):
                out.append(Found("tagged, no deleter", arn, arn, why="tag", arn=arn))
        return out

    def _tagged_arns(self) -> dict[str, dict[str, str]]:
        try:
            items = pages(self.c.resourcegroupstaggingapi, "get_resources", "ResourceTagMappingList")
        except (ClientError, BotoCoreError) as exc:
            self.unchecked.append(f"tagging api: {exc}")
            return {}
        return {i["ResourceARN"]: {t["Key"]: t["Value"] for t in i.get("Tags", [])}
                for i in items if self.match.tags(i.get("Tags")) or self.match(i["ResourceARN"])}

    @contextmanager
    def listing(self, what: str) -> Iterator[None]:
        """One listing of a group: if it fails, it is reported as unchecked and the group's
        other listings still run."""
        try:
            yield
        except (ClientError, BotoCoreError, ListingIncomplete) as exc:
            self.unchecked.append(f"{what}: {exc}")

    def hit(self, *names: Any, tags: Any = None, arn: str = "") -> Why | None:
        if self.match(*names):
            return "name"
        if tags is not None and self.match.tags(tags):
            return "tag"
        if arn and (arn in self.tagged or self.match(arn)):
            return "tag"
        return None

    def in_vpc(self, item: dict[str, Any]) -> Why | None:
        """By its Name tag or tags, else by the matched VPC it sits in."""
        why = self.hit(name_tag(item.get("Tags")), tags=item.get("Tags"))
        return why or ("vpc" if item.get("VpcId") in self.vpcs else None)

    # ------------------------------------------------------------------ delete
    def delete(self, found: list[Found], bound: RoundsBound = ROUNDS) -> list[str]:
        """Delete in dependency order, in at most ``bound.rounds`` rounds: what failed (a
        DependencyViolation while a dependent is still going away) is tried again after a
        pause of ``bound.pause_s`` * round. Returns the errors of the last round."""
        order = delete_order()
        pending = sorted((f for f in found if f.kind in KINDS), key=lambda f: order.index(f.kind))
        errors: list[str] = []
        for round_no in range(bound.rounds):
            errors, failed = [], []
            for f in pending:
                kind = KINDS[f.kind]
                try:
                    kind.delete(self, f)
                    self.log(f"deleted  {f.line()}")
                except (ClientError, BotoCoreError) as exc:
                    if error_code(exc) in kind.gone_codes:
                        continue
                    failed.append(f)
                    errors.append(f"{f.kind} {f.label}: {exc}")
            if not failed:
                return []
            pending = failed
            if round_no < bound.rounds - 1:
                time.sleep(bound.pause_s * (round_no + 1))
        return errors
