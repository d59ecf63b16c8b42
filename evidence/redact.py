"""One redaction function for every evidence file: secret-looking keys and registered values.

Values are registered by the tests that handle them (``evidence_secret`` fixture); keys are
matched by name, so a fact such as ``{"password": ...}`` is redacted even if nobody registered it.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

MASK = "[REDACTED]"
# Key names whose value is a credential. Names that merely mention a secret (db_secret_arn,
# secret_id, the resource type aws_secretsmanager_secret) identify it and stay readable.
_SECRET_KEY = re.compile(
    r"(?i)^(.*[_.-])?(password|passwd|pwd|passphrase|secret_?string|secret_?value|client_?secret|"
    r"private_?key|api_?key|access_?key|secret_?access_?key|session_?token|token|"
    r"authorization|x-origin-verify|origin_?verify_?value|credentials?)$")
# "password": "..." / password=... inside free text (failure messages, captured reprs).
_INLINE = re.compile(
    r"""(?ix)(["']?(?:password|passwd|secret_?string|secret|token|authorization|x-origin-verify)["']?
    \s*[:=]\s*)(["'])(?:(?!\2).)*\2""")
MIN_SECRET_LEN = 4  # shorter "secrets" would redact ordinary words and digits everywhere


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.match(str(key))) or str(key).lower() in ("secret", "secrets")


class Redactor:
    def __init__(self, secrets: set[str] | None = None):
        self._secrets: set[str] = set()
        for s in secrets or ():
            self.add(s)

    def add(self, value: Any) -> None:
        value = str(value)
        if len(value) < MIN_SECRET_LEN:
            raise ValueError(f"refusing to register a {len(value)}-character secret: redacting it "
                             "would mangle ordinary text; secrets are at least "
                             f"{MIN_SECRET_LEN} characters")
        self._secrets.add(value)

    @property
    def secrets(self) -> frozenset[str]:
        return frozenset(self._secrets)

    def text(self, text: str) -> str:
        # Longest first, so a secret that contains another is masked whole; also as it reads
        # once escaped for XML/HTML or inside a JSON string.
        for secret in sorted(self._secrets, key=len, reverse=True):
            for form in {secret, html.escape(secret, quote=True), html.escape(secret, quote=False),
                         json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}:
                text = text.replace(form, MASK)
        return _INLINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(2)}", text)

    def data(self, value: Any, key: str = "") -> Any:
        """A copy of ``value`` with secret-keyed entries masked and every string redacted."""
        # A flag such as manage_master_user_password=false says how, not what: it stays.
        if key and is_secret_key(key) and not isinstance(value, (bool, type(None))) \
                and value not in ("", [], {}):
            return MASK
        if isinstance(value, dict):
            return {k: self.data(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value
