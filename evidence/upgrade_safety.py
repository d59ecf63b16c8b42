"""Whether a release keeps every resource that holds data at its Terraform address.

CDKTF derives a resource's address from its construct path: moving or renaming a construct
gives the resource a new address, and Terraform then destroys the old object and creates a new
one. For the types below that is data loss or an outage. A ``moved`` block (cdktf:
``resource.move_from_id(old_address)``) tells Terraform that the object only changed address.

Pure functions over two synthesized ``cdk.tf.json`` documents; no cdktf import, no git.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping

# Every resource type whose replacement loses data or serves an outage. The one list: the
# per-commit check, the deployed upgrade's plan check and the evidence read it from here.
STATEFUL_TYPES: frozenset[str] = frozenset({
    "aws_rds_cluster",             # the card-data database
    "aws_rds_cluster_instance",    # its writer and reader: a replacement is an outage
    "aws_kms_key",                 # a new key cannot decrypt what the old one encrypted
    "aws_s3_bucket",               # static assets and the access-log trail
    "aws_secretsmanager_secret",   # the database credentials and the origin header value
    "aws_cloudwatch_log_group",    # audit, flow and application logs (PCI DSS 10.5.1)
})

# The arguments that name the real object, to tell "renamed construct" (same object, new
# address) from "removed resource" when an address disappears.
_IDENTITY_ARGUMENTS = ("bucket", "identifier", "cluster_identifier", "name", "description")

Json = Mapping[str, Any]


@dataclass(frozen=True)
class AddressChange:
    """A stateful resource of the base that the head no longer has at the same address."""
    resource_type: str
    old_address: str
    new_address: str | None  # the head's resource that names the same object, if any

    def explain(self) -> str:
        if self.new_address is None:
            return (f"{self.old_address} is gone: upgrading would DESTROY it ({self.resource_type} "
                    "holds data). If that is intended, remove it in a release of its own with a "
                    "`removed` block and a backup; otherwise restore its construct.")
        return (f"{self.old_address} would be destroyed and {self.new_address} created in its "
                f"place ({self.resource_type} holds data): the construct moved or was renamed. "
                "Keep the object with this block in the stack's JSON:\n"
                f"{moved_block(self.old_address, self.new_address)}\n"
                f"or, in the construct that creates {self.new_address}:\n"
                f"    {cdktf_move_call(self.old_address)}")


def moved_block(old_address: str, new_address: str) -> str:
    return f'    moved {{\n      from = {old_address}\n      to   = {new_address}\n    }}'


def cdktf_move_call(old_address: str) -> str:
    return f'<resource>.move_from_id("{old_address}")'


def stateful_addresses(doc: Json) -> dict[str, str]:
    """``type.name`` -> type, for every stateful resource in a synthesized stack."""
    resources = doc.get("resource", {})
    return {f"{rtype}.{name}": rtype for rtype in sorted(STATEFUL_TYPES)
            for name in resources.get(rtype, {})}


def moves(doc: Json) -> dict[str, str]:
    """The ``moved`` blocks of a synthesized stack: from-address -> to-address."""
    return {m["from"]: m["to"] for m in doc.get("moved", []) if "from" in m and "to" in m}


def address_changes(base: Json, head: Json) -> list[AddressChange]:
    """Every stateful resource of ``base`` that ``head`` would replace or destroy."""
    base_addresses = stateful_addresses(base)
    head_addresses = stateful_addresses(head)
    moved = moves(head)
    changes = []
    for address, rtype in sorted(base_addresses.items()):
        if address in head_addresses:
            continue
        if moved.get(address) in head_addresses:
            continue
        changes.append(AddressChange(rtype, address, _same_object(base, head, address,
                                                                  set(base_addresses))))
    return changes


def _same_object(base: Json, head: Json, address: str, base_addresses: set[str]) -> str | None:
    rtype, name = address.split(".", 1)
    identity = _identity(base["resource"][rtype][name])
    if not identity:
        return None
    for candidate, body in sorted(head.get("resource", {}).get(rtype, {}).items()):
        new_address = f"{rtype}.{candidate}"
        if new_address not in base_addresses and _identity(body) == identity:
            return new_address
    return None


def _identity(body: Json) -> tuple[tuple[str, str], ...]:
    return tuple((arg, body[arg]) for arg in _IDENTITY_ARGUMENTS
                 if isinstance(body.get(arg), str) and "${" not in body[arg])


def summary(changes: list[AddressChange]) -> str:
    return "\n\n".join(change.explain() for change in changes)


def _bodies(doc: Json) -> dict[str, Any]:
    # The "//" metadata (construct path, stack trace) is not sent to AWS.
    return {f"{rtype}.{name}": {k: v for k, v in body.items() if k != "//"}
            for rtype, items in doc.get("resource", {}).items() for name, body in items.items()}


def change_record(base: Json, head: Json) -> dict[str, Any]:
    """What the bundle records of a change, from the two JSON documents: resources added,
    changed (arguments differ), moved and removed, by type, and the stateful verdict. Which
    changes force a replacement only a plan knows: that is the deployed upgrade's part."""
    old, new = _bodies(base), _bodies(head)
    moved = {src: dst for src, dst in moves(head).items() if src in old and dst in new}
    kept = set(old) & set(new)
    groups = {
        "added": sorted(set(new) - set(old) - set(moved.values())),
        "changed": sorted(a for a in kept if old[a] != new[a]),
        "moved": sorted(moved),
        "removed": sorted(set(old) - set(new) - set(moved)),
    }
    changes = address_changes(base, head)
    return {
        "by_type": {kind: _count_by_type(addresses) for kind, addresses in groups.items()},
        "addresses": groups,
        "stateful_types": sorted(STATEFUL_TYPES),
        "stateful_verdict": "kept" if not changes else "would replace or destroy",
        "stateful_changes": [{"resource_type": c.resource_type, "old_address": c.old_address,
                              "new_address": c.new_address} for c in changes],
    }


def _count_by_type(addresses: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for address in addresses:
        rtype = address.split(".", 1)[0]
        counts[rtype] = counts.get(rtype, 0) + 1
    return dict(sorted(counts.items()))
