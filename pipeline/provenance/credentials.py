"""The signing key of Content Credentials: the project's own, or the user's.

The project key is a self-signed ES256 chain (a root CA and a signing certificate it
issued) made on first use into ``.facepipe/keys/`` under the project root (git-ignored;
queued experiments share the real root through DVC_ROOT). c2pa-rs accepts a signing
certificate only if it is X.509 v3 on P-256, not a CA, with an Authority Key Identifier,
key usage digitalSignature, and an extended key usage that includes emailProtection; the
chain file lists the signer first and the key is PKCS#8.
"""

from __future__ import annotations

import datetime
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pipeline.errors import UserError

KEY_DIR = Path(".facepipe/keys")
CHAIN, KEY, ROOT_CA = "signer_chain.pem", "signer_key.pem", "root_ca.pem"
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")
VALID_DAYS = 5 * 365


@dataclass
class Credentials:
    chain_pem: bytes
    key_pem: bytes
    origin: str  # "project" or the certificate's path


def load_credentials(root: Path, certificate: str = "", private_key: str = "") -> Credentials:
    """The user's certificate if both paths are given, else the project key (made once)."""
    if certificate or private_key:
        if not (certificate and private_key):
            raise UserError(
                "provenance.certificate and provenance.private_key go together; give both "
                "PEM paths, or neither for the project key."
            )
        paths = [Path(certificate), Path(private_key)]
        for p in paths:
            if not p.is_file():
                raise UserError(
                    f"provenance.certificate/private_key file {p} does not exist; "
                    "give both PEM paths or leave both empty for the project key."
                )
        return Credentials(paths[0].read_bytes(), paths[1].read_bytes(), str(paths[0]))
    folder = root / KEY_DIR
    if not (folder / CHAIN).is_file() or _expires_soon(folder / CHAIN):
        _make_project_key(folder)
    return Credentials((folder / CHAIN).read_bytes(), (folder / KEY).read_bytes(), "project")


def _expires_soon(chain: Path) -> bool:
    cert = x509.load_pem_x509_certificate(chain.read_bytes())
    left = cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)
    return left < datetime.timedelta(days=1)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facepipe (self-signed project key)"),
        ]
    )


def _make_project_key(folder: Path) -> None:
    """Write a new chain into a temporary folder, then move it into place whole (two queue
    workers racing here each make one; the first rename wins and both use that one)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    start = now - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("facepipe root CA"))
        .issuer_name(_name("facepipe root CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + datetime.timedelta(days=2 * VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(_name("facepipe content signer"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / CHAIN).write_bytes(signer.public_bytes(pem) + ca.public_bytes(pem))
    (tmp / ROOT_CA).write_bytes(ca.public_bytes(pem))
    (tmp / KEY).write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(tmp / KEY, 0o600)
    if folder.exists():  # expired: keep the old one beside, for verifying old outputs
        os.replace(folder, folder.with_name(f"{folder.name}.expired-{int(now.timestamp())}"))
    try:
        os.rename(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
