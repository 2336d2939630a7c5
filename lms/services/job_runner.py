"""Running jobs. Like ``certificates.render_job``, these are entry points that own their
transactions: each step commits its progress, so the job page shows it while the work goes on
and a job resumed after a crash starts after the last committed step.

Where a job runs: on the Redis queue (``lms worker``) when LMS_REDIS_URL is set; otherwise in a
thread of the web process (the embedded default), or inline (tests, the CLI)."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings
from lms.content.problems import ContentError
from lms.jobs import enqueue, run_in_thread
from lms.services import audit, certificates, jobs, quizzes
from lms.services.errors import ServiceError
from lms.services.report_export import export_targets
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Certificate, Job, JobKind, PdfStatus, User, make_engine, write_intent

__all__ = ["JobFailed", "execute", "resume_stale", "run_job", "start"]

log = logging.getLogger("lms.jobs")
Progress = Callable[[int, int | None], None]


class JobFailed(Exception):
    """The job cannot do its work (bad input, no permission): recorded, never retried."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Run:
    sessions: sessionmaker[Session]
    job_id: str
    settings: Settings
    on_progress: Progress | None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with write_intent(True), self.sessions() as session, session.begin():
            yield session

    def job(self, session: Session) -> Job:
        job = session.get(Job, self.job_id)
        if job is None:
            raise JobFailed("job.not_found")
        return job

    def owner(self, session: Session, job: Job) -> User:
        owner = session.get(User, job.owner_id) if job.owner_id is not None else None
        if owner is None or not owner.is_active:
            raise JobFailed("auth.forbidden")
        return owner

    @contextmanager
    def step(self, done: int, total: int | None) -> Iterator[Session]:
        """One unit of work and its progress, committed together; reported once committed."""
        with self.transaction() as session:
            yield session
            jobs.progress(session, self.job_id, done, total=total, now=_now())
        if self.on_progress is not None:
            self.on_progress(done, total)


def _quiz_import(run: _Run) -> None:
    with run.transaction() as session:
        job = run.job(session)
        name = Path(str(job.params.get("filename") or "cau-hoi.txt")).name
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(job.payload or b"")
            try:
                # the browser's import is always a draft: published after its author's preview
                quiz_id, count, skipped = quizzes.import_file(
                    session, path, course_id=str(job.params.get("course_id", "")), fmt=job.params.get("format"),
                    now=_now(), owner_id=run.owner(session, job).id, draft=bool(job.params.get("draft", True)),
                    title=str(job.params.get("title") or "") or None, filename=name)
            except ContentError as exc:
                raise JobFailed("content.invalid", [str(p).replace(str(path), name) for p in exc.problems]) from exc
            except ServiceError as exc:
                raise JobFailed(exc.key) from exc
            skipped = [line.replace(str(path), name) for line in skipped]
        jobs.finish(session, run.job_id, now=_now(),
                    result={"quiz_id": quiz_id, "questions": count, "skipped": skipped})


def _report_export(run: _Run) -> None:
    with run.transaction() as session:
        job = run.job(session)
        p = job.params
        try:
            file = export_targets(session, run.owner(session, job), str(p["unit"]), int(p["year"]), str(p["format"]),
                                  header=list(p["header"]), yes=str(p["yes"]), no=str(p["no"]),
                                  sheets=list(p.get("sheets", ())))
        except ServiceError as exc:
            raise JobFailed(exc.key) from exc
        jobs.finish(session, run.job_id, now=_now(), output=file.data,
                    result={"filename": file.filename, "mimetype": file.mimetype, "bytes": len(file.data)})


def _certificates_regenerate(run: _Run) -> None:
    """One certificate per committed step; a resumed run starts after the last one done."""
    with run.transaction() as session:
        job = run.job(session)
        ids = [int(i) for i in job.params.get("ids", [])]
        everything = bool(job.params.get("all"))
        first = job.done
    with run.step(first, len(ids)):
        pass
    for index in range(first, len(ids)):
        with run.step(index + 1, len(ids)) as session:
            cert = session.get(Certificate, ids[index])
            if cert is not None and (everything or cert.pdf_status != PdfStatus.READY):
                cert.pdf_status = PdfStatus.PENDING.value
                certificates.schedule_pdf(session, cert, settings=run.settings)
    with run.transaction() as session:
        jobs.finish(session, run.job_id, now=_now(), result={"certificates": len(ids)})


HANDLERS: dict[str, Callable[[_Run], None]] = {  # JobKind.ROSTER_IMPORT runs with its page, not here
    JobKind.QUIZ_IMPORT: _quiz_import,
    JobKind.REPORT_EXPORT: _report_export,
    JobKind.CERTIFICATES_REGENERATE: _certificates_regenerate,
}


def execute(sessions: sessionmaker[Session], job_id: str, *, settings: Settings,
            on_progress: Progress | None = None) -> str:
    """Run a queued job to its end (or failure); returns its final status. A job that another
    runner already took, or that has finished, is left alone."""
    run = _Run(sessions, job_id, settings, on_progress)
    with run.transaction() as session:
        if not jobs.claim(session, job_id, now=_now()):
            job = session.get(Job, job_id)
            return job.status if job is not None else "missing"
        job = run.job(session)
        kind = job.kind
        owner = session.get(User, job.owner_id) if job.owner_id is not None else None
        if owner is not None:
            _ = owner.id, owner.login  # loaded before it leaves the session, for the audit log
            session.expunge(owner)
    token = audit.acting(owner, f"job:{job_id}")
    try:
        handler = HANDLERS.get(kind)
        if handler is None:
            raise JobFailed(f"no handler for job kind {kind!r}")
        handler(run)
    except JobFailed as exc:
        with run.transaction() as session:
            jobs.fail(session, job_id, now=_now(), message=exc.message, result={"problems": exc.details})
    except Exception as exc:
        log.exception("job %s (%s) failed", job_id, kind)
        with run.transaction() as session:
            jobs.fail(session, job_id, now=_now(), message=f"{type(exc).__name__}: {exc}")
    finally:
        audit.done(token)
    with run.transaction() as session:
        return run.job(session).status


def start(sessions: sessionmaker[Session], job_id: str, *, settings: Settings, inline: bool = False) -> str:
    """Hand a committed job to whatever runs jobs here: the Redis queue when configured, else a
    thread of this process, or this very call when ``inline``. Returns how it was started."""
    if settings.redis_url:
        enqueue(settings.redis_url, "lms.services.job_runner.run_job", job_id)
        return "queued"
    if inline:
        execute(sessions, job_id, settings=settings)
        return "inline"

    run_in_thread(execute, sessions, job_id, settings=settings)
    return "thread"


def run_job(job_id: str) -> str:
    """The Redis queue's entry point: run one job with this process's settings."""
    settings = Settings.load()
    engine = make_engine(settings.database_url)
    try:
        return execute(make_sessionmaker(engine), job_id, settings=settings)
    finally:
        engine.dispose()


def resume_stale(sessions: sessionmaker[Session], *, settings: Settings, inline: bool = False,
                 after: timedelta = jobs.STALE_AFTER, now: datetime | None = None) -> list[str]:
    """Pick up the jobs a dead process left behind (``lms worker`` and the web server call this
    when they start); returns the ids started again."""
    with write_intent(True), sessions() as session, session.begin():
        again = jobs.requeue_stale(session, now=now or _now(), after=after)
    for job_id in again:
        start(sessions, job_id, settings=settings, inline=inline)
    return again
