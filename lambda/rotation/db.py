"""MySQL connections that are TLS with a verified certificate and hostname, or nothing.

AWS's sample rotation function retries without TLS when the TLS connection fails
(aws-secrets-manager-rotation-lambdas#173), which sends credentials in the clear and breaks on
Aurora with require_secure_transport (#114). Here a TLS failure is an error, full stop:

- an ``ssl.SSLContext`` built from the CA bundle, hostname checking on, TLS 1.2 minimum, is
  handed to PyMySQL, which then refuses (before sending credentials) a server that does not
  offer TLS;
- after login the server itself is asked for the session's TLS version, so a driver that ever
  regressed to plaintext would still be caught.
"""
from __future__ import annotations

import contextlib
import ssl

import pymysql

from .errors import (ConfigError, DatabaseAuthError, DatabaseTlsError, DatabaseUnreachableError,
                     RotationError)

ER_ACCESS_DENIED = 1045
# Errors that mean "not these credentials" (access denied, no password given, password
# expired), so the next candidate may still work; anything else ends the step.
_AUTH_ERRORS = {ER_ACCESS_DENIED, 1698, 1862}


def ssl_context(ca_bundle_path: str) -> ssl.SSLContext:
    try:
        ctx = ssl.create_default_context(cafile=ca_bundle_path)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load CA bundle {ca_bundle_path}: {exc}; point "
                          "DB_CA_BUNDLE_PATH at a PEM bundle of CA certificates") from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def _ssl_cause(exc: BaseException) -> BaseException | None:
    seen = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError) or isinstance(seen, ssl.CertificateError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _classify(exc: pymysql.err.OperationalError, where: str, ca_bundle_path: str) -> Exception:
    code = exc.args[0] if exc.args else None
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    tls_cause = _ssl_cause(exc)
    if isinstance(tls_cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in message:
        reason = getattr(tls_cause, "verify_message", None) or message
        return DatabaseTlsError(
            f"the certificate of {where} is not trusted ({reason}); nothing was changed. Make "
            f"sure the cluster's certificate chains to a CA in {ca_bundle_path} and that its "
            "name matches the host in the secret, or set DB_CA_BUNDLE_PATH to the right bundle")
    if tls_cause is not None or "SSL is required" in message:
        return DatabaseTlsError(
            f"no TLS session with {where} ({message}); refusing to send credentials without "
            "TLS. Enable TLS on the server (require_secure_transport=ON on Aurora)")
    if code in _AUTH_ERRORS:
        return DatabaseAuthError(f"{where} rejected the credentials ({message})")
    return DatabaseUnreachableError(
        f"cannot reach the database at {where} ({message}); check that the cluster is "
        "available and that the function's security group and subnets can reach it")


def connect(*, host: str, port: int, user: str, password: str, ca_bundle_path: str,
            timeout: int) -> pymysql.connections.Connection:
    where = f"{host}:{port}"
    ctx = ssl_context(ca_bundle_path)
    try:
        conn = pymysql.connect(host=host, port=port, user=user, password=password, ssl=ctx,
                               connect_timeout=timeout, read_timeout=timeout,
                               write_timeout=timeout, autocommit=True, charset="utf8mb4")
    except pymysql.err.OperationalError as exc:
        raise _classify(exc, where, ca_bundle_path) from exc
    try:
        version = session_tls_version(conn)
    except Exception:
        conn.close()
        raise
    if not version:
        conn.close()
        raise DatabaseTlsError(f"the session with {where} is not encrypted; refusing to use it")
    return conn


def session_tls_version(conn) -> str:
    with conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        row = cur.fetchone()
    return row[1] if row else ""


def server_version(conn) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        return str(cur.fetchone()[0])


def set_password_statement(version: str) -> str:
    """The self-service password change for this server: needs no privilege on any of them.

    MySQL 5.7.6+ and 8.0 (Aurora MySQL 2 and 3) take the plain password as a literal; MariaDB
    still wants PASSWORD(), where a bare literal would be read as an already-hashed value.
    """
    if "mariadb" in version.lower():
        return "SET PASSWORD = PASSWORD(%s)"
    try:
        major, minor = (int(p) for p in version.split("-")[0].split(".")[:2])
    except ValueError:
        raise RotationError(f"unrecognised server version {version!r}; expected MySQL 5.7+, "
                            "8.0 or MariaDB") from None
    if (major, minor) < (5, 7):
        raise RotationError(f"MySQL {version} is older than 5.7, which this function does "
                                "not support; upgrade the cluster")
    return "SET PASSWORD = %s"


def set_own_password(conn, new_password: str) -> None:
    statement = set_password_statement(server_version(conn))
    with conn.cursor() as cur:
        cur.execute(statement, (new_password,))


def probe(conn) -> str:
    """A query proving the session works; returns the account the server says we are."""
    with conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER(), NOW()")
        return str(cur.fetchone()[0])


@contextlib.contextmanager
def opened(**kw):
    conn = connect(**kw)
    try:
        yield conn
    finally:
        conn.close()
