"""Open Badges 3.0: a certificate as an OpenBadgeCredential (a W3C Verifiable Credential),
signed as a VC-JWT (OB 3.0 section 8.2) with the issuing organisation's key (ES256)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jwt

__all__ = ["CONTEXT", "BadgeFacts", "open_badge_credential", "sign_credential"]

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
    return credential


def sign_credential(credential: dict[str, Any], key_path: Path, cert_path: Path) -> str:
    """A compact JWS (VC-JWT): the credential as the payload, the signing certificate in x5c."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    der = cert.public_bytes(serialization.Encoding.DER)
    claims = dict(credential)
    claims.update(iss=credential["issuer"]["id"], jti=credential["id"],
                  nbf=int(datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00")).timestamp()))
    if "validUntil" in credential:
        claims["exp"] = int(datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00")).timestamp())
    return jwt.encode(claims, key_path.read_bytes(), algorithm="ES256",
                      headers={"typ": "vc+ld+json+jwt", "x5c": [base64.b64encode(der).decode("ascii")]})
