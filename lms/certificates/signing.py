"""PAdES signatures (pyHanko) with the issuing organisation's key and certificate. The embedded
default creates a self-signed development certificate under instance/ on first run."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["ensure_dev_signer", "sign_pdf"]


def ensure_dev_signer(folder: Path, organisation: str) -> tuple[Path, Path]:
    """Key and self-signed certificate for development, created once."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path, cert_path = folder / "signing-key.pem", folder / "signing-cert.pem"
    if key_path.is_file() and cert_path.is_file():
        return key_path, cert_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} (development)")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))

    # Created 0600 by the open call itself: no moment when the private key is readable by others
    # (writing first and chmod-ing after leaves one). A unique name, so two workers starting at
    # once never write into the same file; the rename is atomic.
    tmp_key = folder / f".signing-key-{secrets.token_hex(8)}.tmp"
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    tmp_cert = folder / f".signing-cert-{secrets.token_hex(8)}.tmp"
    tmp_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    # the certificate first: a reader that finds the key finds its certificate too
    tmp_cert.replace(cert_path)
    tmp_key.replace(key_path)
    return key_path, cert_path


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


class _SigningCertificateAttribute:
    """The PAdES signing-certificate-v2 attribute (the signer's certificate hash and issuer
    serial), built once per signer and handed out as a fresh parse of its DER each time, so no
    asn1crypto object is shared between threads. pyHanko rebuilds it for every signature, and
    serialising the rebuilt attribute was the largest single part of a signature."""

    attribute_type = "signing_certificate_v2"

    def __init__(self, der: bytes) -> None:
        self.der = der

    async def get_attribute(self, dry_run: bool = False) -> Any:
        from asn1crypto import cms

        return cms.CMSAttribute.load(self.der)


class _PadesAttributes:
    """The signed attributes of a PAdES baseline signature as pyHanko's CAdES spec makes them for
    a PDF with no timestamp and no extra CAdES attributes: content type and message digest (added
    by pyHanko itself) and signing-certificate-v2; no signing time (PAdES keeps it in /M)."""

    def __init__(self, signing_cert: Any) -> None:
        from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute

        value = as_signing_certificate_v2(signing_cert)
        attribute = simple_cms_attribute("signing_certificate_v2", value)  # type: ignore[no-untyped-call]
        self.attribute = _SigningCertificateAttribute(attribute.dump())

    def signed_attr_providers(self, data_digest: bytes, digest_algorithm: str) -> Any:
        yield self.attribute


@dataclass(frozen=True)
class _LoadedSigner:
    signer: Any
    bytes_reserved: int


@functools.lru_cache(maxsize=8)
def _signer(key_path: str, cert_path: str, _key_mtime: int, _cert_mtime: int) -> _LoadedSigner:
    """The signer, loaded (key parsed, certificate read) once per process and key file version,
    with its constant signed attribute built and the room its signature needs in the PDF measured
    once: pyHanko otherwise measures that room with a whole dry-run signature per document."""
    from pyhanko.sign import signers
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    signer = signers.SimpleSigner.load(key_path, cert_path)  # type: ignore[no-untyped-call]
    if signer is None:
        raise RuntimeError("cannot load the signing key and certificate")
    # pyHanko's SignedAttributeProviderSpec interface, duck-typed so pyHanko stays a lazy import
    signer.signed_attr_prov_spec = _PadesAttributes(signer.signing_cert)
    # pyHanko's own estimate, made once: a dry-run container (SHA-512, the longest digest any
    # key could choose) in hexadecimal, plus the same 50% margin pyHanko adds
    dry = asyncio.run(signer.async_sign(bytes(64), "sha512", use_pades=True, dry_run=True,
                                        signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(UTC))))
    size = len(dry.dump()) * 2
    return _LoadedSigner(signer, size + 2 * (size // 4))


def sign_pdf(pdf: bytes, *, key_path: Path, cert_path: Path, reason: str, location: str) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    loaded = _signer(str(key_path), str(cert_path), _mtime(key_path), _mtime(cert_path))
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="ChuKySo", reason=reason, location=location,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    out = signers.sign_pdf(writer, meta, signer=loaded.signer, bytes_reserved=loaded.bytes_reserved)
    signed: bytes = out.getvalue()
    return signed
