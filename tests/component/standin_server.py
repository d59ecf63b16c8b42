"""The aws rehearsal's stand-in account: moto's server, with two of its departures from AWS
put right, both met only by the production shape (the sandbox uploads no static assets).

Policy conditions. AWS applies a policy statement only when its conditions hold, and a condition on a key the
request does not carry does not hold ("If the key that you specify in a policy condition is
not present in the request context, the values do not match", IAM User Guide, condition
operators; `...IfExists` and `Null` aside). moto 5.2.1 supplies no request context to bucket
policies and treats every condition it cannot evaluate as holding: a bucket whose policy has
a conditional Deny (the stack's TLS-only statement on `aws:SecureTransport`) refuses every
object call with 403, so the provider cannot read back the static assets it uploaded. Here
such a statement does not apply, as on AWS for a request over HTTPS.

Delete markers. Emptying a versioned bucket (the provider's force_destroy: DeleteObjects by
version id, delete markers included) crashes moto with HTTP 500 once the last version of a key
goes: it calls ``dispose()`` on every version, and a delete marker has none. A delete marker
holds no data, so here disposing of it does nothing; AWS deletes it.

Run as ``python -m tests.component.standin_server -H 127.0.0.1 -p PORT`` (moto's own options).
"""
from __future__ import annotations

from typing import Any

from moto.iam.access_control import IAMPolicyStatement, PermissionResult
from moto.s3.models import FakeDeleteMarker
from moto.server import main

_moto_is_action_permitted = IAMPolicyStatement.is_action_permitted


def conditions_can_hold(condition: dict[str, dict[str, Any]],
                        request: dict[str, str] | None) -> bool:
    """False when a condition names a key the request does not carry (AWS: no match)."""
    carried = request or {}
    return all(key in carried or operator.endswith("IfExists") or operator == "Null"
               for operator, keys in condition.items() for key in keys)


def is_action_permitted(self: IAMPolicyStatement, action: str, resource: str = "*",
                        principal: str | None = None,
                        incoming_condition_values: dict[str, str] | None = None
                        ) -> PermissionResult:
    condition = self._statement.get("Condition")
    if condition and not conditions_can_hold(condition, incoming_condition_values):
        return PermissionResult.NEUTRAL
    return _moto_is_action_permitted(self, action, resource, principal, incoming_condition_values)


def dispose_nothing(self: FakeDeleteMarker, garbage: bool = False) -> None:
    """A delete marker holds no data to free."""


IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]
FakeDeleteMarker.dispose = dispose_nothing  # type: ignore[attr-defined]

if __name__ == "__main__":
    main()
