"""One kept TLS connection to Aurora, verified against the CA bundle and the endpoint
name, and the one query that proves the database answers over it."""
from __future__ import annotations

import ssl
import time

import pymysql
from pymysql.constants import CR, ER

from platform_app.credentials import Credentials

# Proves the server answers queries and that this session really is TLS.
PROBE_QUERY = "SHOW SESSION STATUS LIKE 'Ssl_version'"


class DatabaseError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CredentialsRejected(DatabaseError):
    pass


class Database:
    def __init__(self, host: str, port: int, ca_bundle: str, connect_timeout: float,
                 query_timeout: float):
        self._host, self._port, self._ca = host, port, ca_bundle
        self._connect_timeout, self._query_timeout = connect_timeout, query_timeout
        self._conn: pymysql.connections.Connection | None = None
        self._conn_creds: Credentials | None = None
        self.connections_opened = 0

    def probe(self, creds: Credentials) -> str:
        """The session's TLS version; raises DatabaseError with a reason otherwise.

        A kept connection that has died (failover, idle timeout, server restart) gets one
        fresh connection; a new one is the only place credentials matter.
        """
        if self._conn is not None and creds != self._conn_creds:
            self.close()
        if self._conn is not None:
            started = time.monotonic()
            try:
                return self._query()
            except DatabaseError:
                self.close()
                if time.monotonic() - started >= self._query_timeout * 0.9:
                    # A hung writer: a reconnect would only double the wait past the
                    # target group's timeout.
                    raise DatabaseError("db_timeout", f"no answer within "
                                        f"{self._query_timeout:g} s") from None
        self._connect(creds)
        try:
            return self._query()
        except DatabaseError:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:
                pass  # already broken; the point is to drop it
        self._conn = None

    def _tls_context(self) -> ssl.SSLContext:
        # Built per connection (connections are rare), so a re-downloaded bundle takes
        # effect without a restart.
        try:
            ctx = ssl.create_default_context(cafile=self._ca)
        except (OSError, ValueError):
            raise DatabaseError("db_ca_bundle_unusable", "DB_CA_BUNDLE holds no usable CA "
                                "certificate; download the RDS global bundle again") from None
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = True
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def _connect(self, creds: Credentials) -> None:
        ctx = self._tls_context()
        started = time.monotonic()
        self.connections_opened += 1
        try:
            # An SSLContext makes PyMySQL require TLS: a server without it is an error,
            # never a plaintext fallback.
            self._conn = pymysql.connect(
                host=self._host, port=self._port, user=creds.username,
                password=creds.password, database=creds.dbname, ssl=ctx,
                connect_timeout=self._connect_timeout, read_timeout=self._query_timeout,
                write_timeout=self._query_timeout, autocommit=True)
            self._conn_creds = creds
        except pymysql.err.OperationalError as exc:
            raise _classify(exc, time.monotonic() - started, self._connect_timeout) from None
        except pymysql.err.MySQLError as exc:
            raise DatabaseError("db_connect_failed", f"{_errno_text(exc)}; check the "
                                "secret's dbname and the user's grants") from None

    def _query(self) -> str:
        try:
            with self._conn.cursor() as cur:
                cur.execute(PROBE_QUERY)
                row = cur.fetchone()
        except (pymysql.err.MySQLError, OSError) as exc:
            raise DatabaseError("db_query_failed", _errno_text(exc)) from None
        if not row or not row[1]:
            # Unreachable with ssl_ca set; kept so that a driver change cannot make a
            # plaintext session look healthy.
            raise DatabaseError("db_not_tls", "the session reports no TLS version")
        return row[1]


def _classify(exc: pymysql.err.OperationalError, elapsed: float, timeout: float):
    code = exc.args[0] if exc.args else 0
    text = str(exc.args[1]) if len(exc.args) > 1 else ""
    if code == ER.ACCESS_DENIED_ERROR:
        return CredentialsRejected("db_credentials_rejected", "access denied (1045)")
    if isinstance(exc.__context__, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY" in text:
        why = getattr(exc.__context__, "verify_message", "") or "certificate verify failed"
        return DatabaseError("db_tls_verification_failed", f"{why}; check DB_CA_BUNDLE and "
                             "that DB_HOST is the name in the server certificate")
    if code == CR.CR_SSL_CONNECTION_ERROR or isinstance(exc.__context__, ssl.SSLError):
        return DatabaseError("db_tls_failed", "TLS handshake failed; the server must offer TLS")
    if elapsed >= timeout * 0.9 or "timed out" in text:
        return DatabaseError("db_timeout", f"no answer within {timeout:g} s")
    return DatabaseError("db_unreachable", f"{_errno_text(exc)}; check the security groups "
                         "and that the cluster is available")


def _errno_text(exc: BaseException) -> str:
    # MySQL error numbers and class names only: server messages may quote user input.
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
    return f"{type(exc).__name__}" + (f" ({code})" if code is not None else "")
