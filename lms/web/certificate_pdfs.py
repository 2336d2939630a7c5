"""Certificate PDFs as the web sees them: where one is made when a request earns it (a thread of
the server in the embedded default, after the commit; `lms worker` when a queue is configured:
lms.services.certificates.schedule_pdf decides), and the address it is fetched from."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, url_for

from lms.jobs import run_in_thread
from lms.services import certificates
from lms.services.records import Certificate, PdfStatus
from lms.web.db import state

__all__ = ["background", "pdf_url"]


def background() -> Callable[[int], object] | None:
    """Where a certificate's PDF is made without a queue: a thread of this process, after the
    commit (inline under test, like every job: ``LMS_JOBS_INLINE``)."""
    if current_app.config.get("LMS_JOBS_INLINE", current_app.testing):
        return None
    lms_state = state()

    def _start(certificate_id: int) -> object:
        return run_in_thread(certificates.render_in_background, lms_state.sessionmaker, certificate_id,
                             settings=lms_state.settings)

    return _start


def pdf_url(cert: Certificate) -> str | None:
    return url_for("lms_api.certificate_pdf", code=cert.code) if cert.pdf_status == PdfStatus.READY else None
