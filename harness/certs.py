"""A self-signed certificate for the ALB's HTTPS listener in the sandbox, imported into ACM.

The private key lives only in memory and in the sandbox's ACM: it is never written to disk,
logged, or put into the Terraform JSON (the stack only receives the certificate ARN).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def self_signed(common_name: str, days: int = 7) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM); RSA 2048 because ACM imports need RSA/EC keys
    of a size the ALB supports."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "platform sandbox")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(common_name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def import_self_signed(acm: Any, suffix: str, tags: dict[str, str]) -> str:
    """Import a fresh certificate for ``origin-<suffix>.sandbox.internal``; return its ARN."""
    cert_pem, key_pem = self_signed(f"origin-{suffix}.sandbox.internal")
    response = acm.import_certificate(
        Certificate=cert_pem, PrivateKey=key_pem,
        Tags=[{"Key": k, "Value": v} for k, v in {**tags, "Suffix": suffix}.items()])
    return str(response["CertificateArn"])


def delete(acm: Any, arn: str) -> None:
    try:
        acm.delete_certificate(CertificateArn=arn)
    except acm.exceptions.ResourceNotFoundException:
        pass
