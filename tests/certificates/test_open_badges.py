from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
from cryptography import x509
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lms.certificates.badges import BadgeFacts, open_badge_credential
from lms.services import certificates
from lms.store import Course
from tests import factories
from tests.shared_dir import SHARED

OB3 = SHARED / "fixtures" / "openbadges3"


def _facts() -> BadgeFacts:
    return BadgeFacts(code="ABCDEFGHJKLMNPQRSTUV", base_url="https://hoc.example.vn", issuer_name="Sở KH&CN",
                      holder_name="Lê Văn Tám", course_id="an-toan-so", course_title="An toàn trên mạng",
                      course_summary="Tóm tắt", course_version="2026.1",
                      competences=[("4.2", "Protecting personal data and privacy")],
                      issued_at=datetime(2026, 11, 25, 3, tzinfo=UTC), expires_at=datetime(2026, 12, 31, tzinfo=UTC))


def test_credential_has_the_shape_of_the_specification_examples() -> None:
    ours = open_badge_credential(_facts())
    example = json.loads((OB3 / "examples" / "basicOpenBadgeCredential_0.json").read_text(encoding="utf-8"))
    aligned = json.loads((OB3 / "examples" / "achievementAlignmentCase_0.json").read_text(encoding="utf-8"))
    assert ours["@context"] == example["@context"]
    assert ours["type"] == example["type"] and set(example) - {"id"} <= set(ours)
    assert set(example["credentialSubject"]) - {"id"} <= set(ours["credentialSubject"])
    assert set(example["credentialSubject"]["achievement"]) <= set(ours["credentialSubject"]["achievement"])
    example_alignment = aligned["credentialSubject"]["achievement"]["alignment"][0]
    our_alignment = ours["credentialSubject"]["achievement"]["alignment"][0]
    assert {"type", "targetName", "targetFramework", "targetCode"} <= set(our_alignment)
    assert our_alignment["type"] == example_alignment["type"]
    context = json.loads((OB3 / "context-3.0.3.json").read_text(encoding="utf-8"))["@context"]
    for term in ("OpenBadgeCredential", "AchievementSubject", "Achievement", "Alignment", "Profile"):
        assert term in context
    assert ours["validFrom"] == "2026-11-25T03:00:00Z" and ours["validUntil"].startswith("2026-12-31")


def test_signed_credential_verifies_with_the_issuers_certificate(client: FlaskClient, session: Session) -> None:
    holder, other = factories.user(session, full_name="Đặng Quỳnh Như"), factories.user(session)
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, holder, course, now=factories.now(), source="in_person")
    mine, theirs = factories.token(session, holder), factories.token(session, other)
    session.commit()
    body = client.get(f"/api/v1/certificates/{cert.code}/credential.json", headers=factories.bearer(mine))
    assert body.status_code == 200 and body.mimetype == "application/ld+json"
    assert body.json["credentialSubject"]["name"] == "Đặng Quỳnh Như"
    token = client.get(f"/api/v1/certificates/{cert.code}/credential.jwt", headers=factories.bearer(mine))
    assert token.status_code == 200
    raw = token.get_data(as_text=True)
    header = jwt.get_unverified_header(raw)
    import base64

    public = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0])).public_key()
    claims = jwt.decode(raw, public, algorithms=["ES256"], options={"verify_exp": False})
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"] and claims["jti"].endswith(cert.code)
    tampered = raw[:-4] + ("AAAA" if not raw.endswith("AAAA") else "BBBB")
    try:
        jwt.decode(tampered, public, algorithms=["ES256"], options={"verify_exp": False})
        raise AssertionError("a tampered credential verified")
    except jwt.InvalidSignatureError:
        pass
    assert client.get(f"/api/v1/certificates/{cert.code}/credential.json",
                      headers=factories.bearer(theirs)).status_code == 404
