"""Credentials verifiable without us (issue 13, item 6): the VC-JWT and its status list, checked
by openbadgeslib, an Open Badges 3.0 verifier written elsewhere."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from flask.testing import FlaskClient
from openbadgeslib.ob3 import OB3Verifier
from sqlalchemy.orm import Session

from lms.certificates.badges import STATUS_LIST_BITS, decode_bitstring, encode_bitstring, readable_name
from lms.services import certificates
from lms.store import Certificate, Course, User
from tests import factories


def _issue(session: Session, **user: str) -> tuple[Certificate, str]:
    holder = factories.user(session, **user)
    course = session.get(Course, "an-toan-so")
    assert course is not None
    cert = certificates.issue(session, holder, course, now=factories.now(), source="in_person")
    session.commit()
    return cert, holder.login


def _fetch(client: FlaskClient):  # type: ignore[no-untyped-def]
    def download(url: str) -> bytes:
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, url
        return response.data

    return download


def _verify(client: FlaskClient, token: str) -> None:
    head = jwt.get_unverified_header(token)
    pem = jwt.PyJWK(head["jwk"]).key.public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    OB3Verifier(pem).verify(token, check_status=True, download=_fetch(client))


def test_an_outside_verifier_accepts_the_credential_and_refuses_it_once_revoked(
        client: FlaskClient, session: Session) -> None:
    cert, _ = _issue(session)
    response = client.get(f"/api/v1/certificates/{cert.code}/credential.jwt")  # no account needed
    assert response.status_code == 200
    token = response.get_data(as_text=True)
    _verify(client, token)
    certificates.revoke(session, cert.code, "Kiểm tra thu hồi", now=factories.now())
    session.commit()
    with pytest.raises(Exception, match="revocation"):
        _verify(client, token)


def test_the_credential_has_the_shape_section_8_2_asks_for(client: FlaskClient, session: Session) -> None:
    cert, login = _issue(session)
    token = client.get(f"/api/v1/certificates/{cert.code}/credential.jwt").get_data(as_text=True)
    head = jwt.get_unverified_header(token)
    assert head["alg"] == "ES256" and head["jwk"]["kty"] == "EC" and "d" not in head["jwk"] and head["x5c"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == claims["issuer"]["id"] and claims["jti"] == claims["id"] and isinstance(claims["nbf"], int)
    subject = claims["credentialSubject"]
    assert subject["id"].startswith("urn:uuid:") and claims["sub"] == subject["id"]
    assert login not in token and login not in json.dumps(claims)
    status = claims["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry" and status["statusPurpose"] == "revocation"
    assert int(status["statusListIndex"]) == cert.id % STATUS_LIST_BITS
    # the same holder has the same opaque id on every credential; another holder another one
    holder, course = session.get(User, cert.user_id), session.get(Course, "tri-tue-nhan-tao")
    assert holder is not None and course is not None
    again = certificates.issue(session, holder, course, now=factories.now(), source="in_person")
    other, _ = _issue(session)
    session.commit()
    ids = [jwt.decode(client.get(f"/api/v1/certificates/{c.code}/credential.jwt").get_data(as_text=True),
                      options={"verify_signature": False})["credentialSubject"]["id"] for c in (again, other)]
    assert ids[0] == subject["id"] and ids[1] != subject["id"]


def test_the_status_list_is_a_signed_gzip_bitstring_of_at_least_16_kib(client: FlaskClient,
                                                                          session: Session) -> None:
    cert, _ = _issue(session)
    certificates.revoke(session, cert.code, "Sai thông tin", now=factories.now())
    session.commit()
    token = client.get(f"/api/v1/certificates/{cert.code}/credential.jwt").get_data(as_text=True)
    url = jwt.decode(token, options={"verify_signature": False})["credentialStatus"]["statusListCredential"]
    listed = client.get(urlsplit(url).path)
    assert listed.status_code == 200 and listed.mimetype == "application/vc+jwt"
    head = jwt.get_unverified_header(listed.get_data(as_text=True))
    claims = jwt.decode(listed.get_data(as_text=True), jwt.PyJWK(head["jwk"]).key, algorithms=["ES256"])
    assert claims["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    encoded = claims["credentialSubject"]["encodedList"]
    assert encoded.startswith("u") and "=" not in encoded
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) * 8 >= 131_072
    index = cert.id % STATUS_LIST_BITS
    assert bits[index // 8] & (0x80 >> (index % 8))
    assert client.get("/api/v1/credentials/status/99999").status_code == 404
    assert client.get("/api/v1/certificates/KHONGCO0000000000000/credential.jwt").status_code == 404


def test_bitstring_round_trip() -> None:
    raw = decode_bitstring(encode_bitstring([0, 7, 8, 131_071]))
    assert len(raw) == 16_384 and raw[0] == 0x81 and raw[1] == 0x80 and raw[-1] == 0x01


def test_the_verify_page_checks_the_credential_and_names_the_key(client: FlaskClient, session: Session) -> None:
    cert, _ = _issue(session)
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "SHA-256" in page and "data-credential=\"valid\"" in page
    certificates.revoke(session, cert.code, "Sai thông tin", now=factories.now())
    session.commit()
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    assert "data-credential=\"revoked\"" in page


def test_the_signer_reads_as_names_not_as_an_rfc_4514_string() -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                      x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "Vĩnh Long"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sở Khoa học và Công nghệ"),
                      x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Phòng Chuyển đổi số, Hạ tầng số"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Sở Khoa học và Công nghệ (ký số)")])
    assert readable_name(name) == "Sở Khoa học và Công nghệ (ký số), Phòng Chuyển đổi số, Hạ tầng số, Vĩnh Long"
    assert "\\" in name.rfc4514_string()  # what the page showed: escapes and attribute types
    only_country = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])
    assert readable_name(only_country) == "C=VN"


def test_the_verify_page_names_the_signer_readably(client: FlaskClient, session: Session) -> None:
    cert, _ = _issue(session)
    page = client.get(f"/verify/{cert.code}").get_data(as_text=True)
    signer = page.split("Đơn vị ký</dt><dd>", 1)[1].split("</dd>", 1)[0]
    assert signer and "CN=" not in signer and "O=" not in signer and "\\" not in signer
