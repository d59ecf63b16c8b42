"""Plain-Python queries over synthesized Terraform JSON (no cdktf import in tests)."""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

REF = re.compile(r"\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.")


class TfJson:
    def __init__(self, path):
        self.path = path
        self.text = path.read_text()
        self.doc = json.loads(self.text)
        self.resource = self.doc.get("resource", {})
        self.data = self.doc.get("data", {})

    def all(self, rtype: str) -> dict[str, dict]:
        return self.resource.get(rtype, {})

    def list(self, rtype: str) -> list[dict]:
        return list(self.all(rtype).values())

    def one(self, rtype: str) -> dict:
        items = self.list(rtype)
        assert len(items) == 1, f"expected one {rtype}, found {len(items)}"
        return items[0]

    def find(self, rtype: str, path_part: str) -> dict:
        """The resource of ``rtype`` whose construct path contains ``path_part``."""
        hits = [r for r in self.list(rtype) if path_part in r["//"]["metadata"]["path"]]
        assert len(hits) == 1, f"{rtype} with {path_part!r}: {len(hits)} found"
        return hits[0]

    def address(self, rtype: str, body: dict) -> str:
        for name, candidate in self.all(rtype).items():
            if candidate is body:
                return f"{rtype}.{name}"
        raise KeyError(rtype)

    def ref(self, rtype: str, body: dict, attr: str) -> str:
        return "${" + self.address(rtype, body) + "." + attr + "}"

    def resources(self) -> Iterator[tuple[str, str, dict]]:
        for rtype, items in self.resource.items():
            for name, body in items.items():
                yield rtype, name, body

    def policies(self) -> Iterator[tuple[str, dict]]:
        """Every IAM, KMS, S3 and trust policy document, parsed."""
        for rtype, name, body in self.resources():
            for key in ("policy", "assume_role_policy"):
                if isinstance(body.get(key), str):
                    yield f"{rtype}.{name}.{key}", json.loads(body[key])


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]
