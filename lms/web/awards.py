"""After progress is recorded: issue the course certificate when it is earned and have its PDF
made (inline in the embedded default, by `lms worker` when a queue is configured)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from lms.services import certificates
from lms.store import Certificate, User
from lms.web.db import now, state

__all__ = ["award_if_earned", "pdf_url"]


def award_if_earned(session: Session, user: User, course_id: str) -> Certificate | None:
    cert = certificates.issue_if_earned(session, user, course_id, now=now())
    if cert is not None:
        certificates.schedule_pdf(session, cert, settings=state().settings)
    return cert


def pdf_url(cert: Certificate) -> str | None:
    from flask import url_for

    return url_for("lms_api.certificate_pdf", code=cert.code) if cert.pdf_status == "ready" else None
