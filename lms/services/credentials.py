"""Credentials anyone can verify without us: each certificate as an Open Badges 3.0 VC-JWT with
a W3C Bitstring Status List entry, the status lists themselves, and the check the verify page
shows.

A certificate's place in the status lists follows from its id: list ``id // 131072``, bit
``id % 131072``. No column is needed, the place never changes, and a revocation (or a reissue,
which revokes the old certificate) sets the bit the next time the list is served, because the
list is built from ``certificates.revoked_at`` at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.certificates.badges import (
    STATUS_LIST_BITS,
    CredentialCheck,
    check_credential,
    holder_urn,
    sign_credential,
    status_list_credential,
)
from lms.services.certificates import Signing, credential
from lms.services.errors import NotFound
from lms.store import Certificate

__all__ = ["Addresses", "credential_jwt", "status_list_jwt", "status_place", "verify_credential"]


@dataclass(frozen=True)
class Addresses:
    """Where the site is: ``public_url`` names the issuer and the pages, ``api_url`` (the public
    address with the mount prefix and /api/v1) the status lists."""

    public_url: str
    api_url: str
    holder_secret: str  # keys the opaque holder URN

    def status_list_url(self, number: int) -> str:
        return f"{self.api_url}/credentials/status/{number}"


def status_place(cert: Certificate) -> tuple[int, int]:
    return divmod(cert.id, STATUS_LIST_BITS)


def _find(session: Session, code: str) -> Certificate:
    if not code or len(code) > 40:
        raise NotFound("certificate.not_found")
    cert = session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if cert is None:
        raise NotFound("certificate.not_found")
    return cert


def credential_jwt(session: Session, code: str, *, where: Addresses, signing: Signing) -> str:
    """The signed OpenBadgeCredential of the certificate with this code (NotFound otherwise)."""
    cert = _find(session, code)
    number, index = status_place(cert)
    body = credential(session, cert, base_url=where.public_url)
    body["credentialSubject"] = {"id": holder_urn(where.holder_secret, cert.user_id), **body["credentialSubject"]}
    body["credentialStatus"] = {
        "id": f"{where.status_list_url(number)}#{index}", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": str(index),
        "statusListCredential": where.status_list_url(number)}
    return sign_credential(body, signing.key_path, signing.cert_path)


def status_list_jwt(session: Session, number: int, *, where: Addresses, signing: Signing, now: datetime) -> str:
    """The revocation status list ``number`` as a signed BitstringStatusListCredential."""
    if number < 0 or number > 10_000:
        raise NotFound("not_found")
    first = number * STATUS_LIST_BITS
    revoked = session.scalars(select(Certificate.id).where(Certificate.id >= first,
                                                           Certificate.id < first + STATUS_LIST_BITS,
                                                           Certificate.revoked_at.is_not(None))).all()
    body = status_list_credential(issuer_id=f"{where.public_url.rstrip('/')}/", list_url=where.status_list_url(number),
                                  revoked=[i - first for i in revoked], now=now)
    return sign_credential(body, signing.key_path, signing.cert_path)


def verify_credential(session: Session, code: str, *, where: Addresses, signing: Signing,
                      now: datetime) -> CredentialCheck:
    """Check the certificate's credential as an outside verifier would, with our own key as the
    one trusted: signature, signer, and the revocation bit in the status list."""
    from cryptography.hazmat.primitives import serialization

    cert = _find(session, code)
    token = credential_jwt(session, code, where=where, signing=signing)
    listed = status_list_jwt(session, status_place(cert)[0], where=where, signing=signing, now=now)
    trusted = serialization.load_pem_private_key(signing.key_path.read_bytes(), password=None).public_key()
    return check_credential(token, listed, trusted)
