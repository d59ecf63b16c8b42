"""The failures a rotation step reports; each message says what to do next.

Any of them fails the invocation, so Secrets Manager retries the step and, after its retries,
leaves the secret's AWSCURRENT version untouched and marks the rotation as failed.
"""


class RotationError(Exception):
    """Base class: a rotation step cannot go on."""


class ConfigError(RotationError):
    """The function's environment is wrong (a variable, the CA bundle)."""


class EventError(RotationError):
    """The invocation event is not one Secrets Manager sends."""


class NotRotatableError(RotationError):
    """The secret or the version named by the token is not in a state to rotate."""


class SecretFormatError(RotationError):
    """A secret version does not hold the JSON this function manages."""


class DatabaseAuthError(RotationError):
    """The database rejected the credentials (MySQL error 1045)."""


class DatabaseTlsError(RotationError):
    """No verified TLS session: untrusted certificate, wrong name, or a server without TLS."""


class DatabaseUnreachableError(RotationError):
    """The database did not answer on its host and port."""
