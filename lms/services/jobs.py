"""Jobs: long work (an import, a report export, a bulk PDF run) whose progress is recorded as it
goes, so a user can leave its page and come back, and a restarted process picks it up again.

This module only reads and changes ``jobs`` rows (flush, never commit); running a job, which
commits each step so that its progress shows, is ``lms.services.job_runner``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lms.services import access
from lms.services.errors import Conflict, Forbidden, NotFound
from lms.store import Certificate, Job, JobKind, JobStatus, PdfStatus, User

__all__ = ["ACTIVE", "KINDS", "MAX_RUNS", "STALE_AFTER", "claim", "create", "create_certificates_regeneration",
           "fail", "finish", "get_for", "is_stale", "output_of", "progress", "recent_for", "requeue", "requeue_stale"]

KINDS = tuple(JobKind)
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
# A running job writes its progress (and so updated_at) at every step; one silent for this long
# belongs to a process that died, and is queued again.
STALE_AFTER = timedelta(minutes=5)
MAX_RUNS = 3  # a job that kills its process every time is given up after this many starts


def create(session: Session, *, kind: JobKind | str, owner: User | None, now: datetime,
           params: dict[str, Any] | None = None, payload: bytes | None = None, total: int | None = None) -> Job:
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job(id=uuid.uuid4().hex, kind=JobKind(kind).value, owner_id=owner.id if owner else None,
              status=JobStatus.QUEUED.value, done=0,
              total=total, params=params or {}, payload=payload, runs=0, created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    return job


def create_certificates_regeneration(session: Session, *, owner: User | None, everything: bool,
                                     now: datetime) -> Job:
    """A job over the certificates whose PDF is missing (or all of them): the list is fixed now,
    so a resumed run goes on from the same place in it."""
    if owner is not None and not access.is_admin(owner):
        raise Forbidden("auth.forbidden")
    query = select(Certificate.id).order_by(Certificate.id)
    if not everything:
        query = query.where(Certificate.pdf_status != PdfStatus.READY)
    ids = list(session.scalars(query))
    return create(session, kind=JobKind.CERTIFICATES_REGENERATE, owner=owner, now=now, total=len(ids),
                  params={"ids": ids, "all": everything})


def requeue(session: Session, job_id: str, *, now: datetime) -> Job:
    """Queue an unfinished job again by hand; it goes on after its last recorded step."""
    job = session.get(Job, job_id) if len(job_id) <= 32 else None
    if job is None:
        raise NotFound("job.not_found")
    if job.status == JobStatus.DONE:
        raise Conflict("job.finished")
    job.status, job.message, job.updated_at = JobStatus.QUEUED.value, None, now
    session.flush()
    return job


def get_for(session: Session, user: User, job_id: str) -> Job:
    """A job its owner (or an admin) may see; anyone else is refused."""
    job = session.get(Job, job_id) if len(job_id) <= 32 else None
    if job is None:
        raise NotFound("job.not_found")
    if job.owner_id != user.id and not access.is_admin(user):
        raise Forbidden("auth.forbidden")
    return job


def recent_for(session: Session, user: User, *, now: datetime, days: int = 7, limit: int = 10) -> list[Job]:
    """The user's jobs still running, and those finished lately (their results stay reachable)."""
    since = now - timedelta(days=days)
    return list(session.scalars(select(Job).where(Job.owner_id == user.id, Job.created_at >= since)
                                .order_by(Job.created_at.desc()).limit(limit)))


def output_of(session: Session, user: User, job_id: str) -> tuple[bytes, str, str]:
    """The file a finished job made: (data, file name, media type)."""
    job = get_for(session, user, job_id)
    if job.status != JobStatus.DONE or job.output is None or not job.result:
        raise NotFound("job.no_file")
    return job.output, str(job.result.get("filename", "ket-qua")), str(job.result.get("mimetype",
                                                                                       "application/octet-stream"))


def claim(session: Session, job_id: str, *, now: datetime) -> bool:
    """Move a queued job to running, once: of two runners given the same job, one gets it."""
    moved = session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
                            .values(status=JobStatus.RUNNING.value, runs=Job.runs + 1, updated_at=now)
                            .execution_options(synchronize_session=False))
    claimed = getattr(moved, "rowcount", 0) == 1
    job = session.get(Job, job_id)
    if job is not None:
        session.refresh(job)
    return claimed


def _job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("job.not_found")
    return job


def progress(session: Session, job_id: str, done: int, *, now: datetime, total: int | None = None) -> Job:
    job = _job(session, job_id)
    job.done = done
    if total is not None:
        job.total = total
    job.updated_at = now
    session.flush()
    return job


def finish(session: Session, job_id: str, *, now: datetime, result: dict[str, Any] | None = None,
           output: bytes | None = None) -> Job:
    job = _job(session, job_id)
    job.status, job.result, job.output, job.payload, job.updated_at = JobStatus.DONE.value, result, output, None, now
    if job.total is None:
        job.total = max(job.done, 1)
    job.done = job.total
    session.flush()
    return job


def fail(session: Session, job_id: str, *, now: datetime, message: str,
         result: dict[str, Any] | None = None) -> Job:
    job = _job(session, job_id)
    job.status, job.message, job.result, job.payload = JobStatus.FAILED.value, message[:2000], result, None
    job.updated_at = now
    session.flush()
    return job


def is_stale(job: Job, now: datetime, after: timedelta = STALE_AFTER) -> bool:
    return job.status in ACTIVE and job.updated_at < now - after


def requeue_stale(session: Session, *, now: datetime, after: timedelta = STALE_AFTER,
                  only: str | None = None) -> list[str]:
    """Queue again the jobs a dead process left running (or queued and never started), or just
    the job ``only`` if it is one of them; return their ids for the caller to start. Each is
    moved by a conditional update, so two processes starting at once do not both take it."""
    cutoff = now - after
    again: list[str] = []
    query = select(Job).where(Job.status.in_(ACTIVE), Job.updated_at < cutoff).order_by(Job.created_at)
    if only is not None:
        query = query.where(Job.id == only)
    for job in session.scalars(query).all():
        if job.runs >= MAX_RUNS:
            fail(session, job.id, now=now, message="stopped: it did not finish after several starts")
            continue
        moved = session.execute(update(Job).where(Job.id == job.id, Job.status.in_(ACTIVE), Job.updated_at < cutoff)
                                .values(status=JobStatus.QUEUED.value, updated_at=now)
                                .execution_options(synchronize_session=False))
        if getattr(moved, "rowcount", 0) == 1:
            again.append(job.id)
    session.expire_all()
    return again
