"""After progress is recorded: issue the course certificate when it is earned and have its PDF
made in the background (a thread of the server in the embedded default, `lms worker` when a
queue is configured), so the answer that earned it comes back at once."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from lms.services import certificates
from lms.services.records import Certificate, User
from lms.web.db import now, state

__all__ = ["award_if_earned", "pdf_url"]


def award_if_earned(session: Session, user: User, course_id: str) -> Certificate | None:
    cert = certificates.issue_if_earned(session, user, course_id, now=now())
    if cert is not None:
        certificates.schedule_pdf(session, cert, settings=state().settings, background=_background())
    return cert


def _background() -> Callable[[int], object] | None:
    """Where a certificate's PDF is made without a queue: a thread of this process, after the
    commit (inline under test, like every job: ``LMS_JOBS_INLINE``)."""
    from flask import current_app

    if current_app.config.get("LMS_JOBS_INLINE", current_app.testing):
        return None
    lms_state = state()

    def _start(certificate_id: int) -> object:
        from lms.jobs import run_in_thread

        return run_in_thread(certificates.render_in_background, lms_state.sessionmaker, certificate_id,
                             settings=lms_state.settings)

    return _start


def pdf_url(cert: Certificate) -> str | None:
    from flask import url_for

    return url_for("lms_api.certificate_pdf", code=cert.code) if cert.pdf_status == "ready" else None
