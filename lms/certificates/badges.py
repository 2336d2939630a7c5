"""Open Badges 3.0: a certificate as an OpenBadgeCredential (a W3C Verifiable Credential),
signed as a VC-JWT (OB 3.0 section 8.2) with the issuing organisation's key (ES256), and the W3C
Bitstring Status List that says which of them were revoked.

Anyone can check a credential without us: the JOSE header carries the issuer's public key
(``jwk``) and the organisation's certificate (``x5c``); ``credentialStatus`` points to a status
list credential signed with the same key, whose bit for this certificate is 1 once revoked.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import uuid
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from lms.domain.text import nfc

__all__ = ["CONTEXT", "STATUS_LIST_BITS", "BadgeFacts", "CredentialCheck", "check_credential", "decode_bitstring",
           "encode_bitstring", "holder_urn", "key_fingerprint", "open_badge_credential", "readable_name",
           "sign_credential", "sign_jwt", "status_list_credential"]

# The W3C Bitstring Status List's minimum size (16 KiB): a list this long hides which of its
# entries are in use, so a verifier fetching it learns nothing about the certificate asked about.
STATUS_LIST_BITS = 131_072

CONTEXT = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
FRAMEWORK = "Khung năng lực số cho người học (Thông tư 02/2025/TT-BGDĐT)"


@dataclass(frozen=True)
class BadgeFacts:
    code: str
    base_url: str  # the site's public address, e.g. https://hoc.vinhlong.gov.vn
    issuer_name: str
    holder_name: str
    course_id: str
    course_title: str
    course_summary: str
    course_version: str
    competences: list[tuple[str, str]]  # (code, label)
    issued_at: datetime
    expires_at: datetime | None
    subject_id: str | None = None  # an opaque URN for the holder (holder_urn), never a login or phone
    status_list_url: str | None = None  # the status list credential that holds this certificate's bit
    status_index: int | None = None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def open_badge_credential(f: BadgeFacts) -> dict[str, Any]:
    base = f.base_url.rstrip("/")
    credential: dict[str, Any] = {
        "@context": list(CONTEXT),
        "id": f"{base}/verify/{f.code}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": f"{base}/", "type": ["Profile"], "name": f.issuer_name},
        "validFrom": _iso(f.issued_at),
        "name": f.course_title,
        "credentialSubject": {
            **({"id": f.subject_id} if f.subject_id else {}),
            "type": ["AchievementSubject"],
            "name": f.holder_name,
            "achievement": {
                "id": f"{base}/courses/{f.course_id}",
                "type": ["Achievement"],
                "name": f.course_title,
                "description": f.course_summary,
                "criteria": {"narrative": "Hoàn thành mọi bài học và đạt bài kiểm tra cuối khóa, hoặc đạt bài "
                                          "kiểm tra của lớp tập huấn trực tiếp."},
                "version": f.course_version,
                "inLanguage": "vi",
                "alignment": [{"type": ["Alignment"], "targetCode": code, "targetName": label,
                               "targetFramework": FRAMEWORK, "targetType": "ext:DigitalCompetence",
                               "targetUrl": f"{base}/competences#{code}"} for code, label in f.competences],
            },
        },
    }
    if f.expires_at is not None:
        credential["validUntil"] = _iso(f.expires_at)
    if f.status_list_url is not None and f.status_index is not None:
        credential["credentialStatus"] = {
            "id": f"{f.status_list_url}#{f.status_index}", "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation", "statusListIndex": str(f.status_index),
            "statusListCredential": f.status_list_url}
    return credential


def holder_urn(secret: str, user_id: int) -> str:
    """A stable, opaque id for a holder: a keyed hash of the account id, so the same person has
    the same id on all their credentials but nobody without the site's secret can link it to an
    account, a login or a phone number."""
    digest = hmac.new(secret.encode("utf-8"), f"ob3-holder:{user_id}".encode(), hashlib.sha256).digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=4)}"


def _public_key_of(key_pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(key_pem, password=None).public_key()


def key_fingerprint(public_key: Any) -> str:
    """SHA-256 of the public key (SubjectPublicKeyInfo, DER), as colon-separated hex pairs."""
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def sign_jwt(claims: dict[str, Any], key_path: Path, cert_path: Path) -> str:
    """A compact JWS signed ES256; the header carries the public key (jwk) and the signing
    certificate (x5c), as OB 3.0 section 8.2 describes for an issuer without a DID."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import ECAlgorithm

    key_pem = key_path.read_bytes()
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    public_jwk = json.loads(ECAlgorithm.to_jwk(_public_key_of(key_pem)))
    return jwt.encode(claims, key_pem, algorithm="ES256",
                      headers={"typ": "JWT", "jwk": public_jwk, "x5c": [base64.b64encode(der).decode("ascii")]})


def encode_bitstring(set_bits: Iterable[int], size: int = STATUS_LIST_BITS) -> str:
    """Multibase base64url (``u``, no padding) of the GZIP-compressed bitstring, index 0 being
    the first byte's most significant bit (W3C Bitstring Status List 1.0, section 3)."""
    raw = bytearray(size // 8)
    for index in set_bits:
        if 0 <= index < size:
            raw[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode_bitstring(encoded: str, limit: int = 1 << 20) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url")
    body = encoded[1:]
    packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    inflator = zlib.decompressobj(wbits=31)
    raw = inflator.decompress(packed, limit)
    if inflator.unconsumed_tail:
        raise ValueError("status list too large")
    return raw


def status_list_credential(*, issuer_id: str, list_url: str, revoked: Iterable[int], now: datetime,
                           lifetime: timedelta = timedelta(days=1)) -> dict[str, Any]:
    """A BitstringStatusListCredential for revocation. It is valid for a day: a copy a verifier
    cached cannot hide a revocation for longer."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "validFrom": _iso(now.replace(microsecond=0)),
        "validUntil": _iso((now + lifetime).replace(microsecond=0)),
        "credentialSubject": {"id": f"{list_url}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encode_bitstring(revoked)},
    }


def _registered_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """OB 3.0 section 8.2.4.1: the credential is the payload, beside iss, nbf, jti (and sub,
    exp where the credential has a subject id or an end)."""
    claims = dict(credential)
    issuer = credential["issuer"]
    claims.update(iss=issuer["id"] if isinstance(issuer, dict) else issuer, jti=credential["id"],
                  nbf=int(datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00")).timestamp()))
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and subject.get("id"):
        claims["sub"] = subject["id"]
    if "validUntil" in credential:
        claims["exp"] = int(datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00")).timestamp())
    return claims


@dataclass(frozen=True)
class CredentialCheck:
    signature_ok: bool
    our_key: bool  # signed by the key this site signs with
    revoked: bool | None  # None: the status could not be read
    fingerprint: str | None
    subject: str | None  # the organisation certificate's subject, from x5c


def check_credential(token: str, status_list_token: str | None, trusted_public_key: Any) -> CredentialCheck:
    """What an outside verifier would conclude, done here for the verify page: the signature
    against the key in the header, whether that key is ours, and the certificate's bit."""
    from cryptography import x509

    try:
        header = jwt.get_unverified_header(token)
        public = jwt.PyJWK(header["jwk"]).key
        claims = jwt.decode(token, public, algorithms=["ES256"], options={"verify_exp": False})
    except (jwt.PyJWTError, KeyError, ValueError):
        return CredentialCheck(False, False, None, None, None)
    fingerprint = key_fingerprint(public)
    ours = fingerprint == key_fingerprint(trusted_public_key)
    subject = None
    if header.get("x5c"):
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
            subject = readable_name(cert.subject)
        except ValueError:
            subject = None
    revoked: bool | None = None
    entry = claims.get("credentialStatus")
    if status_list_token and isinstance(entry, dict):
        try:
            listed = jwt.decode(status_list_token, public, algorithms=["ES256"])
            bits = decode_bitstring(listed["credentialSubject"]["encodedList"])
            index = int(entry["statusListIndex"])
            revoked = bool(bits[index // 8] & (0x80 >> (index % 8)))
        except (jwt.PyJWTError, KeyError, ValueError, IndexError):
            revoked = None
    return CredentialCheck(True, ours, revoked, fingerprint, subject)


def readable_name(name: Any) -> str:
    """An X.509 name (``cryptography.x509.Name``) as a person reads it on the verify page: its
    common name, unit, organisation, locality and province, most specific first, each once (a part
    already contained in an earlier one is left out), without RFC 4514's escapes and attribute
    types ("CN=Sở KH\\,CN,O=..."). The RFC 4514 string when it has none of these."""
    from cryptography.x509.oid import NameOID

    parts: list[str] = []
    for oid in (NameOID.COMMON_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME,
                NameOID.LOCALITY_NAME, NameOID.STATE_OR_PROVINCE_NAME):
        for attribute in name.get_attributes_for_oid(oid):
            value = nfc(str(attribute.value).strip())
            if value and not any(value in part for part in parts):
                parts.append(value)
    return ", ".join(parts) or str(name.rfc4514_string())


def sign_credential(credential: dict[str, Any], key_path: Path, cert_path: Path) -> str:
    """The credential as a VC-JWT (compact JWS): the payload is the credential with its
    registered claims; the header has the issuer's public key and certificate."""
    return sign_jwt(_registered_claims(credential), key_path, cert_path)
