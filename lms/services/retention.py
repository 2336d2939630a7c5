"""Keeping personal data no longer than needed (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): old
audit events, dead API tokens and finished jobs' files are deleted after the periods set in
settings. Learning records and certificates are kept: they are the evidence the programme exists
for (see docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from lms.services.throttle import WINDOW
from lms.store import ApiToken, AuditEvent, Job, JobStatus, LoginFailure, PasswordSetupCode, WebSession

__all__ = ["Purged", "purge"]


@dataclass(frozen=True)
class Purged:
    audit_events: int
    tokens: int
    jobs: int


def purge(session: Session, *, now: datetime, audit_days: int, token_days: int, job_days: int) -> Purged:
    events = session.execute(delete(AuditEvent).where(AuditEvent.at < now - timedelta(days=audit_days)))
    token_cut = now - timedelta(days=token_days)
    tokens = session.execute(delete(ApiToken).where(or_(ApiToken.expires_at < token_cut,
                                                         ApiToken.revoked_at < token_cut)))
    jobs = session.execute(delete(Job).where(Job.status.in_((JobStatus.DONE, JobStatus.FAILED)),
                                             Job.updated_at < now - timedelta(days=job_days)))
    _purge_sign_in_records(session, now)
    return Purged(int(events.rowcount), int(tokens.rowcount), int(jobs.rowcount))  # type: ignore[attr-defined]


def _purge_sign_in_records(session: Session, now: datetime) -> None:
    """Ended sessions, failures older than the throttling window and spent setup codes serve no
    purpose once past: they go on the same daily run (counts not reported; nothing personal)."""
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - WINDOW))
    session.execute(delete(PasswordSetupCode).where(or_(PasswordSetupCode.expires_at < now - timedelta(days=30),
                                                        PasswordSetupCode.used_at < now - timedelta(days=30))))
