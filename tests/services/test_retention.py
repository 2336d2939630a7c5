"""Old audit events, dead tokens and finished jobs go after their retention period; recent ones,
live tokens and running jobs stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from lms.services import accounts, audit, jobs
from lms.services.retention import purge
from lms.store import ApiToken, AuditEvent, Job
from tests import factories
from tests.factories import now


def test_purge_deletes_only_what_is_past_its_period(session: Session) -> None:
    user = factories.user(session)
    old = audit.record(session, "test.old", "user", user.id, now=now() - timedelta(days=400))
    recent = audit.record(session, "test.recent", "user", user.id, now=now() - timedelta(days=10))
    _, live = accounts.issue_token(session, user, now=now(), lifetime=timedelta(days=1))
    _, dead = accounts.issue_token(session, user, now=now() - timedelta(days=100), lifetime=timedelta(days=1))
    finished = jobs.create(session, kind="report_export", owner=user, now=now() - timedelta(days=60), total=1)
    finished.status = "done"
    finished.updated_at = now() - timedelta(days=60)
    running = jobs.create(session, kind="report_export", owner=user, now=now() - timedelta(days=60), total=1)
    running.status = "running"
    running.updated_at = now() - timedelta(days=60)
    session.flush()
    ids = (old.id, recent.id, live.id, dead.id, finished.id, running.id)
    purged = purge(session, now=now(), audit_days=365, token_days=90, job_days=30)
    assert purged.audit_events >= 1 and purged.tokens >= 1 and purged.jobs >= 1
    session.expire_all()
    assert session.get(AuditEvent, ids[0]) is None and session.get(AuditEvent, ids[1]) is not None
    assert session.get(ApiToken, ids[3]) is None and session.get(ApiToken, ids[2]) is not None
    assert session.get(Job, ids[4]) is None and session.get(Job, ids[5]) is not None
    assert session.scalar(select(AuditEvent.id).where(AuditEvent.id == ids[1])) == ids[1]
