"""Keeping personal data no longer than needed (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): old
audit events, dead API tokens and finished jobs' files are deleted after the periods set in
settings. Learning records and certificates are kept: they are the evidence the programme exists
for (see docs/security.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from lms.store import ApiToken, AuditEvent, Job

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
    jobs = session.execute(delete(Job).where(Job.status.in_(("done", "failed")),
                                             Job.updated_at < now - timedelta(days=job_days)))
    return Purged(int(events.rowcount), int(tokens.rowcount), int(jobs.rowcount))  # type: ignore[attr-defined]
