"""Secrets Manager rotation for the Aurora MySQL credentials: one user, four steps.

Follows AWS's SecretsManagerRDSMySQLRotationSingleUser template (createSecret, setSecret,
testSecret, finishSecret) and differs where that template is unsafe:

- TLS with certificate and hostname verification on every database connection, never a
  plaintext fallback (see :mod:`rotation.db`);
- an untrusted certificate or an unreachable database fails the step at once with its own
  error, instead of being folded into "could not log in with any credentials";
- the pending, current and previous versions must name the same user, host and port, so a
  tampered AWSPENDING cannot send a password elsewhere;
- finishSecret logs in with the new password before promoting it;
- new passwords draw from letters, digits and ``-_.~`` only, safe inside MySQL literals, JSON
  and URLs (checked again after GetRandomPassword);
- logs are JSON lines without secret values, and error messages are scrubbed the same way.
"""
from __future__ import annotations

import json
import string
import time

from . import db, jsonlog, secret_store, settings as settings_module
from .errors import DatabaseAuthError, EventError, NotRotatableError, RotationError, SecretFormatError

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
PASSWORD_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_.~")
# GetRandomPassword takes what to leave out, so exclude every other printable character.
EXCLUDED_CHARACTERS = "".join(c for c in string.punctuation if c not in PASSWORD_ALPHABET)


class _Invocation:
    """What every step needs: the client, the settings, the secret and the token."""

    def __init__(self, sm, cfg: settings_module.Settings, secret_id: str, token: str):
        self.sm, self.cfg, self.secret_id, self.token = sm, cfg, secret_id, token

    def connect(self, creds: dict):
        return db.connect(host=creds["host"], port=creds["port"], user=creds["username"],
                          password=creds["password"], ca_bundle_path=self.cfg.ca_bundle_path,
                          timeout=self.cfg.connect_timeout)


# ---------------------------------------------------------------- the four steps

def create_secret(inv: _Invocation) -> None:
    """Store a new password as AWSPENDING under the token, unless one is already there."""
    current = secret_store.get(inv.sm, inv.secret_id, "AWSCURRENT")
    if secret_store.get_optional(inv.sm, inv.secret_id, "AWSPENDING", inv.token) is not None:
        jsonlog.info("pending_exists", detail="AWSPENDING already holds a value; not replaced")
        return
    password = inv.sm.get_random_password(
        PasswordLength=inv.cfg.password_length, ExcludeCharacters=EXCLUDED_CHARACTERS,
        RequireEachIncludedType=True)["RandomPassword"]
    jsonlog.protect(password)
    if set(password) - PASSWORD_ALPHABET or len(password) != inv.cfg.password_length:
        raise RotationError("GetRandomPassword returned a password outside the requested "
                            "length or character set; nothing was stored, retry the rotation")
    pending = dict(current, password=password)
    inv.sm.put_secret_value(SecretId=inv.secret_id, ClientRequestToken=inv.token,
                            SecretString=json.dumps(pending), VersionStages=["AWSPENDING"])
    jsonlog.info("pending_created", password_length=len(password))


def set_secret(inv: _Invocation) -> None:
    """Make the database accept the AWSPENDING password, logging in with whatever still works."""
    pending = secret_store.get(inv.sm, inv.secret_id, "AWSPENDING", inv.token)
    current = secret_store.get(inv.sm, inv.secret_id, "AWSCURRENT")
    previous = secret_store.get_optional(inv.sm, inv.secret_id, "AWSPREVIOUS")
    _same_account(pending, current, "AWSCURRENT")
    if previous is not None:
        _same_account(pending, previous, "AWSPREVIOUS")

    conn = _login(inv, pending)
    if conn is not None:
        conn.close()
        jsonlog.info("pending_already_set", detail="the database accepts AWSPENDING already")
        return
    for label, creds in (("AWSCURRENT", current), ("AWSPREVIOUS", previous)):
        if creds is None:
            continue
        conn = _login(inv, creds)
        if conn is None:
            continue
        try:
            jsonlog.info("logged_in", credentials=label)
            db.set_own_password(conn, pending["password"])
        finally:
            conn.close()
        jsonlog.info("password_set", host=pending["host"], port=pending["port"])
        return
    raise DatabaseAuthError(
        f"the database at {pending['host']}:{pending['port']} accepts none of the AWSPENDING, "
        "AWSCURRENT or AWSPREVIOUS passwords for the secret's user; the password was changed "
        "outside Secrets Manager. Reset it to the AWSCURRENT value (or store the working "
        "password as AWSCURRENT) and rotate again")


def test_secret(inv: _Invocation) -> None:
    """Log in with AWSPENDING over verified TLS and run a query."""
    pending = secret_store.get(inv.sm, inv.secret_id, "AWSPENDING", inv.token)
    _check_pending_works(inv, pending)


def finish_secret(inv: _Invocation) -> None:
    """Move AWSCURRENT to the token's version (Secrets Manager moves AWSPREVIOUS along)."""
    _, stages = secret_store.versions(inv.sm, inv.secret_id)
    current_version = secret_store.version_with(stages, "AWSCURRENT")
    if current_version == inv.token:
        jsonlog.info("already_current", detail="the token's version is AWSCURRENT already")
    else:
        # The last chance to stop a password the database does not take from going live.
        pending = secret_store.get(inv.sm, inv.secret_id, "AWSPENDING", inv.token)
        _check_pending_works(inv, pending)
        inv.sm.update_secret_version_stage(SecretId=inv.secret_id, VersionStage="AWSCURRENT",
                                           MoveToVersionId=inv.token,
                                           RemoveFromVersionId=current_version)
        jsonlog.info("promoted", previous_version=current_version)
    # A finished rotation leaves AWSPENDING on no version, so the next RotateSecret starts clean.
    _, stages = secret_store.versions(inv.sm, inv.secret_id)
    if "AWSPENDING" in stages.get(inv.token, []):
        inv.sm.update_secret_version_stage(SecretId=inv.secret_id, VersionStage="AWSPENDING",
                                           RemoveFromVersionId=inv.token)


STEP_FUNCTIONS = {"createSecret": create_secret, "setSecret": set_secret,
                  "testSecret": test_secret, "finishSecret": finish_secret}


# ---------------------------------------------------------------- helpers

def _same_account(pending: dict, other: dict, label: str) -> None:
    for key in ("username", "host", "port"):
        if pending[key] != other[key]:
            raise SecretFormatError(
                f"AWSPENDING and {label} differ in {key}; a rotation must not move the "
                f"credentials to another account or server. Fix the {label} or AWSPENDING "
                "version and rotate again")


def _login(inv: _Invocation, creds: dict):
    """A connection, or None when the server rejects these credentials.

    Only a credential rejection moves on to the next candidate: a TLS or network failure
    would fail the same way with any password, so it ends the step at once.
    """
    try:
        return inv.connect(creds)
    except DatabaseAuthError:
        return None


def _check_pending_works(inv: _Invocation, pending: dict) -> None:
    with db.opened(host=pending["host"], port=pending["port"], user=pending["username"],
                   password=pending["password"], ca_bundle_path=inv.cfg.ca_bundle_path,
                   timeout=inv.cfg.connect_timeout) as conn:
        account = db.probe(conn)
    jsonlog.info("pending_login_ok", account_host=account.rpartition("@")[2])


def _parse_event(event) -> tuple[str, str, str]:
    if not isinstance(event, dict):
        raise EventError("the event is not a JSON object; Secrets Manager sends "
                         "{SecretId, ClientRequestToken, Step}")
    missing = [k for k in ("SecretId", "ClientRequestToken", "Step")
               if not isinstance(event.get(k), str) or not event[k]]
    if missing:
        raise EventError(f"the event lacks {', '.join(missing)}; Secrets Manager sends "
                         "{SecretId, ClientRequestToken, Step}")
    if event["Step"] not in STEPS:
        raise EventError(f"unknown step {event['Step']!r}; expected one of {', '.join(STEPS)}")
    return event["SecretId"], event["ClientRequestToken"], event["Step"]


def _token_stage(sm, secret_id: str, token: str) -> str:
    """'AWSCURRENT' or 'AWSPENDING' for the token's version, else a NotRotatableError."""
    meta, stages = secret_store.versions(sm, secret_id)
    if not meta.get("RotationEnabled"):
        raise NotRotatableError(
            f"secret {secret_id} does not have rotation enabled; enable it (RotateSecret with "
            "RotationLambdaARN and RotationRules) instead of invoking this function directly")
    if token not in stages:
        raise NotRotatableError(
            f"version {token} of secret {secret_id} does not exist; the token must be the "
            "version Secrets Manager staged as AWSPENDING when the rotation started")
    if "AWSCURRENT" in stages[token]:
        return "AWSCURRENT"
    if "AWSPENDING" not in stages[token]:
        raise NotRotatableError(
            f"version {token} of secret {secret_id} is staged {stages[token] or 'nowhere'}, "
            "not AWSPENDING; it is not the rotation in progress. Start a new rotation with "
            "RotateSecret")
    return "AWSPENDING"


def _chain_mentions_secret(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if jsonlog.redact(str(exc)) != str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


# ---------------------------------------------------------------- entry point

def lambda_handler(event, context):
    started = time.monotonic()
    step = event.get("Step") if isinstance(event, dict) else None
    fields = {"step": step,
              "secret_id": event.get("SecretId") if isinstance(event, dict) else None,
              "token": event.get("ClientRequestToken") if isinstance(event, dict) else None,
              "request_id": getattr(context, "aws_request_id", None)}
    jsonlog.reset()
    try:
        cfg = settings_module.load()
        jsonlog.reset(cfg.log_level)
        jsonlog.info("step_started", **fields)
        secret_id, token, step = _parse_event(event)
        sm = secret_store.client(cfg.secrets_manager_endpoint)
        stage = _token_stage(sm, secret_id, token)
        if stage == "AWSCURRENT" and step != "finishSecret":
            jsonlog.info("step_skipped", detail="the token's version is AWSCURRENT already: "
                         "this rotation has completed", **fields)
        else:
            STEP_FUNCTIONS[step](_Invocation(sm, cfg, secret_id, token))
    except Exception as exc:
        message = jsonlog.redact(str(exc))
        jsonlog.error("step_failed", error_type=type(exc).__name__, error=message,
                      duration_ms=round((time.monotonic() - started) * 1000), **fields)
        if _chain_mentions_secret(exc):
            # The runtime prints the exception itself: never let it carry a secret value.
            raise RotationError(f"{type(exc).__name__}: {message}") from None
        raise
    jsonlog.info("step_finished", duration_ms=round((time.monotonic() - started) * 1000),
                 **fields)
    return {"step": step, "status": "ok"}
