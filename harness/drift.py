"""What a plan JSON (``terraform show -json``) would change, attribute by attribute.

Pure functions over the plan's ``resource_changes`` and ``output_changes``: no terraform, no
AWS, so the idempotency judgement is unit-tested on a recorded plan. Values marked sensitive
in the plan are never rendered (the plan JSON holds them in clear).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

UNKNOWN = "(known after apply)"
SENSITIVE = "(sensitive)"
ABSENT = "(absent)"
WHOLE = "*"          # the attribute of a create or delete: the resource as a whole


@dataclass(frozen=True)
class Change:
    """One attribute the plan would change, values already rendered (sensitive ones masked)."""
    address: str
    resource_type: str
    actions: tuple[str, ...]
    attribute: str
    before: str
    after: str

    def line(self) -> str:
        return (f"{self.address} ({'/'.join(self.actions)}): {self.attribute}: "
                f"{self.before} -> {self.after}")

    @classmethod
    def parse(cls, text: str) -> Change | None:
        """The change a ``line()`` describes (None if ``text`` is not one): read back from a
        run's output, e.g. an IdempotencyError's list."""
        match = _LINE.fullmatch(text.strip())
        if match is None:
            return None
        address = match["address"]
        return cls(address, _resource_type(address), tuple(match["actions"].split("/")),
                   match["attribute"], match["before"], match["after"])


# What line() writes. An address holds no spaces and its index keys no ": " (the platform's
# are names, numbers or none), so the first " (" and ": " end the address and the actions.
_LINE = re.compile(r"(?P<address>[^ ]+) \((?P<actions>[a-z/-]+)\): (?P<attribute>[^:]+): "
                   r"(?P<before>.*) -> (?P<after>.*)")


def _resource_type(address: str) -> str:
    """``aws_s3_bucket`` of ``module.m.aws_s3_bucket.b["k"]``."""
    parts = address.split(".")
    while len(parts) > 2 and parts[0] == "module":
        parts = parts[2:]
    return parts[0]


def _render(value: Any, sensitive: Any) -> str:
    if sensitive is True or (sensitive and not isinstance(value, (dict, list))):
        return SENSITIVE
    if value is None:
        return "null"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _sub(tree: Any, key: str | int) -> Any:
    """The part of an after_unknown/..._sensitive tree at ``key`` (a bool covers everything below)."""
    if isinstance(tree, bool):
        return tree
    if isinstance(tree, dict) and isinstance(key, str):
        return tree.get(key)
    if isinstance(tree, list) and isinstance(key, int) and key < len(tree):
        return tree[key]
    return None


def schema_path(attribute: str) -> str:
    """``default_cache_behavior.0.min_ttl`` -> ``default_cache_behavior.min_ttl``: the
    allow-list names attributes, not positions in a block list."""
    return ".".join(part for part in attribute.split(".") if not part.isdigit())


def _diff(path: str, before: Any, after: Any, unknown: Any, b_sens: Any, a_sens: Any
          ) -> list[tuple[str, str, str]]:
    """(path, before, after) for every leaf that differs; dicts and equally long lists (blocks)
    are walked, lists of another length compared whole."""
    if unknown is True:
        return [(path, _render(before, b_sens), UNKNOWN)]
    if isinstance(before, dict) and isinstance(after, dict):
        out: list[tuple[str, str, str]] = []
        for key in sorted(set(before) | set(after) | set(unknown if isinstance(unknown, dict)
                                                         else ())):
            out += _diff(f"{path}.{key}" if path else key, before.get(key), after.get(key),
                         _sub(unknown, key), _sub(b_sens, key), _sub(a_sens, key))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after) \
            and before != after:
        out = []
        for i, (old, new) in enumerate(zip(before, after, strict=True)):
            out += _diff(f"{path}.{i}", old, new, _sub(unknown, i), _sub(b_sens, i),
                         _sub(a_sens, i))
        return out
    if before == after and not (isinstance(unknown, (dict, list)) and _any_true(unknown)):
        return []
    return [(path, _render(before, b_sens), _render(after, a_sens))]


def _any_true(tree: Any) -> bool:
    if tree is True:
        return True
    if isinstance(tree, dict):
        return any(_any_true(v) for v in tree.values())
    if isinstance(tree, list):
        return any(_any_true(v) for v in tree)
    return False


def plan_changes(plan: dict[str, Any]) -> list[Change]:
    """Every attribute change in ``plan`` (a resource created or deleted is one ``*`` change)."""
    found: list[Change] = []
    for rc in plan.get("resource_changes") or []:
        change = rc.get("change") or {}
        actions = tuple(change.get("actions") or ())
        if actions in ((), ("no-op",), ("read",)):
            continue
        address, rtype = str(rc.get("address")), str(rc.get("type"))
        before, after = change.get("before"), change.get("after")
        if before is None or after is None or "delete" in actions and "create" not in actions:
            found.append(Change(address, rtype, actions, WHOLE,
                                ABSENT if before is None else "(present)",
                                ABSENT if after is None else "(present)"))
            continue
        for path, old, new in _diff("", before, after, change.get("after_unknown"),
                                    change.get("before_sensitive"), change.get("after_sensitive")):
            found.append(Change(address, rtype, actions, path, old, new))
        if not any(c.address == address for c in found):
            # An update terraform plans whose attributes all compare equal here (e.g. a
            # list reordered into an identical set): still a change, shown as a whole.
            found.append(Change(address, rtype, actions, WHOLE, "(present)", "(changed)"))
    for name, oc in sorted((plan.get("output_changes") or {}).items()):
        actions = tuple(oc.get("actions") or ())
        if actions in ((), ("no-op",)):
            continue
        found.append(Change(f"output.{name}", "output", actions, "value",
                            _render(oc.get("before"), oc.get("before_sensitive")),
                            UNKNOWN if oc.get("after_unknown") is True
                            else _render(oc.get("after"), oc.get("after_sensitive"))))
    return found
