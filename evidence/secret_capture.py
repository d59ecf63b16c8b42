"""Register every secret value this process reads from or writes to Secrets Manager.

Tests that drive the rotation Lambda or read the DB secret handle real passwords without
calling ``evidence_secret``; any of them could end up in a failure message. Every botocore
client created after ``install`` reports Secrets Manager payloads (SecretString,
RandomPassword) to the redactor, so the bundle masks them without each test opting in.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import botocore.session

from evidence.redact import MIN_SECRET_LEN, is_secret_key

_MARK = "_evidence_capture"
_sinks: list[Callable[[str], None]] = []


def _register(value: Any) -> None:
    if not isinstance(value, str) or len(value) < MIN_SECRET_LEN:
        return
    for sink in _sinks:
        sink(value)
    try:
        doc = json.loads(value)
    except ValueError:
        return
    if isinstance(doc, dict):  # {"username": ..., "password": ...}: the password alone too
        for key, inner in doc.items():
            if is_secret_key(key):
                _register(inner)


def _on_params(params: dict[str, Any] | None = None, **_: Any) -> None:
    for key in ("SecretString",):
        if params and key in params:
            _register(params[key])


def _on_response(parsed: dict[str, Any] | None = None, **_: Any) -> None:
    for key in ("SecretString", "RandomPassword"):
        if parsed and key in parsed:
            _register(parsed[key])


def install(sink: Callable[[str], None]) -> None:
    """Send Secrets Manager secret values seen by any later-created client to ``sink``."""
    _sinks.append(sink)
    original = botocore.session.Session.create_client
    if getattr(original, _MARK, False):
        return

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        if client.meta.service_model.service_id.hyphenize() == "secrets-manager":
            client.meta.events.register("before-parameter-build.secrets-manager", _on_params)
            client.meta.events.register("after-call.secrets-manager", _on_response)
        return client

    setattr(create_client, _MARK, True)
    botocore.session.Session.create_client = create_client
