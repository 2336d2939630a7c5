"""Certificates: issue (online when earned, or by a trainer for an in-person class), revoke,
reissue, verify, and produce the signed PDF off the request path when a queue is configured."""

from __future__ import annotations

import base64
import functools
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.certificates.badges import BadgeFacts, open_badge_credential, sign_credential
from lms.certificates.render import CertificateView, render_pdf, template_dir, template_settings
from lms.certificates.signing import ensure_dev_signer, sign_pdf
from lms.config import Settings
from lms.content.competences import competences as competence_labels
from lms.domain import certificates as rules
from lms.domain.text import normalise_login
from lms.jobs import enqueue
from lms.services import audit, statements
from lms.services.catalogue import course_progress, get_course
from lms.services.errors import Forbidden, Invalid, NotFound
from lms.services.unit_of_work import after_commit, make_sessionmaker
from lms.store import Attempt, Certificate, Course, PdfStatus, Quiz, Role, Unit, User, make_engine, write_intent

__all__ = [
    "ISSUER",
    "Signing",
    "Verification",
    "award",
    "award_in_person",
    "certificate_status",
    "generate_pdf",
    "issue",
    "issue_if_earned",
    "list_for_user",
    "new_code",
    "revoke",
    "schedule_pdf",
    "verify",
]

ISSUER = "Phong trào Bình dân học vụ số"
ISSUERS_BY_ROLE = (Role.TRAINER, Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class Signing:
    """Where the issuing organisation's key and certificate are (PEM files)."""

    key_path: Path
    cert_path: Path
    organisation: str = ISSUER

    @classmethod
    def development(cls, instance: Path) -> Signing:
        key, cert = ensure_dev_signer(instance / "signing", ISSUER)
        return cls(key, cert)

    @classmethod
    def from_settings(cls, settings: Settings) -> Signing:
        """The organisation's own key and certificate when configured (LMS_SIGNING_KEY and
        LMS_SIGNING_CERT); otherwise the development pair created under instance/."""
        if settings.signing_key and settings.signing_cert:
            return cls(Path(settings.signing_key), Path(settings.signing_cert), settings.issuer_name)
        return cls.development(settings.instance_path)


def new_code() -> str:
    """100 random bits in base32 (20 letters and digits): unguessable, easy to read aloud."""
    return base64.b32encode(secrets.token_bytes(13)).decode("ascii")[:20]


def certificate_status(cert: Certificate, now: datetime) -> str:
    return rules.status(revoked=cert.revoked_at is not None, expires_at=cert.expires_at, now=now)


def _current(session: Session, user_id: int, course_id: str, now: datetime) -> Certificate | None:
    for cert in session.scalars(select(Certificate).where(Certificate.user_id == user_id,
                                                          Certificate.course_id == course_id)
                                .order_by(Certificate.issued_at.desc())):
        if certificate_status(cert, now) == "valid":
            return cert
    return None


def issue(session: Session, holder: User, course: Course, *, now: datetime, source: str,
          issued_by: User | None = None) -> Certificate:
    """Record a certificate at once (its PDF follows). A learner holding a valid certificate of
    the course gets that one back, so issuing twice never doubles what reports count."""
    existing = _current(session, holder.id, course.id, now)
    if existing is not None:
        return existing
    cert = Certificate(code=new_code(), user_id=holder.id, course_id=course.id, course_title=course.title,
                       course_version=course.version, competences=list(course.competences),
                       holder_name=holder.full_name, unit_code=holder.unit_code, issuer_name=ISSUER,
                       source=source, issued_by_id=issued_by.id if issued_by else None, issued_at=now,
                       expires_at=rules.expiry(course.certificate_validity, now), pdf_status=PdfStatus.PENDING)
    session.add(cert)
    session.flush()
    audit.record(session, "certificate.issue", "certificate", cert.code, now=now, user_id=holder.id,
                 course_id=course.id, source=source)
    statements.certificate_issued(session, cert, now=now)
    return cert


def issue_by_staff(session: Session, staff: User | None, login: str, course_id: str, *, now: datetime) -> Certificate:
    """The server operator (``staff`` is None: `lms certificates issue`) issues the certificate of a
    learner who passed outside the site; audited. Trainers and managers certify through a class
    (lms.services.classes), where the unit, the score and a second person are checked."""
    if staff is not None:
        raise Forbidden("auth.forbidden")

    holder = session.scalar(select(User).where(User.login == normalise_login(login)))
    if holder is None:
        raise NotFound("user.not_found")
    return issue(session, holder, get_course(session, course_id), now=now, source="in_person", issued_by=staff)


def issue_if_earned(session: Session, user: User, course_id: str, *, now: datetime) -> Certificate | None:
    """Issue when every lesson is done and the final assessment is passed."""
    course = get_course(session, course_id)
    progress = course_progress(session, user, course_id)
    passed = False
    if course.final_quiz_id:
        passed = session.scalar(select(Attempt.id).join(Quiz, Quiz.id == Attempt.quiz_id).where(
            Attempt.user_id == user.id, Attempt.quiz_id == course.final_quiz_id, Attempt.passed.is_(True))) is not None
    if not rules.eligible(lessons_done=progress.completed_lessons, lesson_count=progress.lesson_count,
                          final_passed=passed, has_final=bool(course.final_quiz_id)):
        return None
    return issue(session, user, course, now=now, source="online")


def revoke(session: Session, code: str, reason: str, *, now: datetime) -> Certificate:
    cert = session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if cert is None:
        raise NotFound("certificate.not_found")
    if not reason.strip():
        raise Invalid("certificate.invalid", {"reason": "reason.required"})
    if cert.revoked_at is None:
        cert.revoked_at, cert.revoked_reason = now, reason.strip()[:500]
        audit.record(session, "certificate.revoke", "certificate", cert.code, now=now, reason=cert.revoked_reason)
        statements.certificate_revoked(session, cert, now=now)
    session.flush()
    return cert


def reissue(session: Session, code: str, *, now: datetime) -> Certificate:
    """A corrected certificate (after a name change): the old one is revoked, the new one refers
    to it, and both stay in the history."""
    old = session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if old is None:
        raise NotFound("certificate.not_found")
    holder = session.get(User, old.user_id)
    course = session.get(Course, old.course_id)
    assert holder is not None and course is not None
    revoke(session, old.code, "Cấp lại", now=now)
    new = issue(session, holder, course, now=now, source=old.source)
    new.replaces_id, new.issued_at, new.expires_at = old.id, now, old.expires_at
    session.flush()
    return new


def list_for_user(session: Session, user: User) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(Certificate.user_id == user.id)
                                .order_by(Certificate.issued_at.desc())))


def get_own(session: Session, user: User, code: str) -> Certificate:
    cert = session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if cert is None or cert.user_id != user.id:
        raise NotFound("certificate.not_found")
    return cert


class Verification(TypedDict):
    """The public answer about one certificate code (the API's /verify body, as it is)."""

    valid: bool
    status: str
    holder: str
    course: str
    course_id: str
    course_version: str
    issued_at: str
    expires_at: str | None
    revoked_at: str | None


def verify(session: Session, code: str, *, now: datetime) -> Verification | None:
    """What anyone may learn from a code: status, name, course, dates. Nothing more personal."""
    if not code or len(code) > 40:
        return None
    cert = session.scalar(select(Certificate).where(Certificate.code == code.strip().upper()))
    if cert is None:
        return None
    state = certificate_status(cert, now)
    return {"valid": state == "valid", "status": state, "holder": cert.holder_name, "course": cert.course_title,
            "course_id": cert.course_id, "course_version": cert.course_version,
            "issued_at": cert.issued_at.isoformat(),
            "expires_at": cert.expires_at.isoformat() if cert.expires_at else None,
            "revoked_at": cert.revoked_at.isoformat() if cert.revoked_at else None}


def generate_pdf(session: Session, cert: Certificate, *, signing: Signing, verify_base_url: str) -> None:
    """Render and sign the PDF, and store it with the certificate."""
    try:
        pdf = _signed_pdf(session, cert, signing=signing, verify_base_url=verify_base_url)
    except Exception:
        cert.pdf_status = PdfStatus.FAILED
        session.flush()
        raise
    cert.pdf, cert.pdf_status = pdf, PdfStatus.READY
    session.flush()


def _signed_pdf(session: Session, cert: Certificate, *, signing: Signing, verify_base_url: str) -> bytes:
    labels = competence_labels()
    template = _template_for(session, cert.unit_code)
    own = template_settings(template)
    view = CertificateView(
        holder=cert.holder_name, course=cert.course_title, version=cert.course_version,
        competences=[{"code": c, "label": labels[c].domain_vi if c in labels else c} for c in cert.competences],
        issuer=own.get("issuer", cert.issuer_name), place=own.get("place", "Việt Nam"),
        signatory=own.get("signatory", signing.organisation),
        date=rules.vietnamese_date(cert.issued_at),
        expires=rules.vietnamese_date(cert.expires_at) if cert.expires_at else None, code=cert.code,
        verify_url=f"{verify_base_url.rstrip('/')}/verify/{cert.code}")
    return sign_pdf(render_pdf(view, template=template), key_path=signing.key_path, cert_path=signing.cert_path,
                    reason=f"Chứng nhận {cert.code}", location="Việt Nam")


def _template_for(session: Session, unit_code: str | None) -> str:
    """The holder's commune's template if it has one, else its province's, else the default."""
    unit = session.get(Unit, unit_code) if unit_code else None
    for code in (unit.code, unit.parent_code) if unit else ():
        if code and template_dir(code).name == code:
            return code
    return "default"


def render_job(certificate_id: int) -> str:
    """The background job (RQ): render one certificate's PDF in its own transaction."""
    settings = Settings.load()
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            cert = session.get(Certificate, certificate_id)
            if cert is None:
                return "missing"
            if cert.pdf_status != PdfStatus.READY:
                generate_pdf(session, cert, signing=Signing.from_settings(settings),
                             verify_base_url=settings.public_url)
            return cert.pdf_status
    finally:
        engine.dispose()


def schedule_pdf(session: Session, cert: Certificate, *, settings: Settings,
                 background: Callable[[int], object] | None = None) -> str:
    """With a queue (LMS_REDIS_URL) the PDF is made by `lms worker` after this transaction
    commits. Without one, ``background`` (the web server's: a thread of its own) makes it after
    the commit, so that the answer that earned the certificate does not wait seconds for it; the
    pending row is the queue, which the server drains again when it starts
    (:func:`render_pending`). Without either (a CLI command), it is made inline, now."""
    if cert.pdf_status == PdfStatus.READY:
        return "ready"
    if settings.redis_url:
        after_commit(session, functools.partial(enqueue, settings.redis_url, "lms.services.certificates.render_job",
                                                cert.id))
        return "queued"
    if background is not None:
        after_commit(session, functools.partial(background, cert.id))
        return "queued"
    generate_pdf(session, cert, signing=Signing.from_settings(settings), verify_base_url=settings.public_url)
    return "ready"


def award(session: Session, user: User, course_id: str, *, now: datetime, settings: Settings,
          background: Callable[[int], object] | None = None) -> Certificate | None:
    """After progress is recorded (a lesson completed, a final passed): issue the course
    certificate when it is earned and have its PDF made (see :func:`schedule_pdf`), so the answer
    that earned it comes back at once. Returns the certificate, or None when not (yet) earned."""
    cert = issue_if_earned(session, user, course_id, now=now)
    if cert is not None:
        schedule_pdf(session, cert, settings=settings, background=background)
    return cert


def award_in_person(session: Session, learner: User, course: Course, *, issued_by: User, now: datetime,
                    settings: Settings, background: Callable[[int], object] | None = None) -> Certificate:
    """A class result that earns the certificate (lms.services.classes decides that): issue it and
    have its PDF made, like every other certificate's."""
    cert = issue(session, learner, course, now=now, source="in_person", issued_by=issued_by)
    schedule_pdf(session, cert, settings=settings, background=background)
    return cert


def credential(session: Session, cert: Certificate, *, base_url: str) -> dict[str, Any]:
    """The certificate as an Open Badges 3.0 credential."""
    course = session.get(Course, cert.course_id)
    labels = competence_labels()
    return open_badge_credential(BadgeFacts(
        code=cert.code, base_url=base_url, issuer_name=cert.issuer_name, holder_name=cert.holder_name,
        course_id=cert.course_id, course_title=cert.course_title, course_summary=course.summary if course else "",
        course_version=cert.course_version,
        competences=[(c, labels[c].label_en if c in labels else c) for c in cert.competences],
        issued_at=cert.issued_at, expires_at=cert.expires_at))


def signed_credential(session: Session, cert: Certificate, *, base_url: str, signing: Signing) -> str:
    return sign_credential(credential(session, cert, base_url=base_url), signing.key_path, signing.cert_path)


def render_in_background(sessions: Callable[[], Session], certificate_id: int, *, settings: Settings) -> str:
    """Make one pending certificate's PDF: read and render in a read transaction, then store it
    with one conditional update, so the database's write lock is never held while WeasyPrint
    works, and a PDF another process stored first is kept."""
    with write_intent(False), sessions() as session:
        cert = session.get(Certificate, certificate_id)
        if cert is None or cert.pdf_status == PdfStatus.READY:
            return "missing" if cert is None else "ready"
        pdf: bytes | None = None
        try:
            pdf = _signed_pdf(session, cert, signing=Signing.from_settings(settings),
                              verify_base_url=settings.public_url)
        except Exception:
            logging.getLogger("lms.certificates").exception("certificate %s: PDF failed", certificate_id)
    status = PdfStatus.READY if pdf is not None else PdfStatus.FAILED
    with write_intent(True), sessions() as session, session.begin():
        session.execute(update(Certificate)
                        .where(Certificate.id == certificate_id, Certificate.pdf_status != PdfStatus.READY)
                        .values(pdf=pdf, pdf_status=status).execution_options(synchronize_session=False))
    return status


def warm_up(settings: Settings) -> None:
    """Load what a certificate PDF needs into this process (WeasyPrint and its libraries, the font
    configuration and parsed stylesheets the renderer keeps, the signer) by making one throwaway
    PDF. ``lms worker`` calls it before RQ forks a work horse per job: each job then starts from
    these instead of loading them again (measured: about 2 s per job cold, 0.1 s warm)."""
    try:
        signing = Signing.from_settings(settings)
        view = CertificateView(holder="Nguyễn Văn A", course="Khởi động", version="0",
                               competences=[{"code": "1.1", "label": "Khởi động"}], issuer=ISSUER,
                               place="Việt Nam", signatory=signing.organisation, date="", expires=None,
                               code="KHOIDONG", verify_url=f"{settings.public_url.rstrip('/')}/verify/KHOIDONG")
        sign_pdf(render_pdf(view), key_path=signing.key_path, cert_path=signing.cert_path,
                 reason="warm-up", location="Việt Nam")
    except Exception:  # each job still reports its own failure; the worker starts regardless
        logging.getLogger("lms.certificates").exception("certificate PDF warm-up failed")


def render_pending(sessions: Callable[[], Session], *, settings: Settings, limit: int = 1000) -> int:
    """Make the PDFs a stopped server left pending (the embedded default's queue)."""
    with write_intent(False), sessions() as session:
        ids = list(session.scalars(select(Certificate.id).where(Certificate.pdf_status == PdfStatus.PENDING)
                                   .order_by(Certificate.id).limit(limit)))
    return sum(1 for i in ids if render_in_background(sessions, i, settings=settings) == PdfStatus.READY)
