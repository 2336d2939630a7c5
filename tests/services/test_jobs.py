"""Jobs record their progress step by step, are run once however many runners are handed them,
and a job a dead process left behind is resumed after its last committed step."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Connection, Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings
from lms.jobs import QUEUE
from lms.services import certificates, job_runner, jobs
from lms.services.errors import Forbidden, NotFound
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Certificate, Course, Job, User
from tests import factories
from tests.databases import REDIS_URL
from tests.factories import now


@pytest.fixture()
def sessions(connection: Connection) -> sessionmaker[Session]:
    """What the runner opens its own transactions from: here, savepoints of the test's connection."""
    return make_sessionmaker(connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


def _certificates(session: Session, n: int) -> list[int]:
    course = session.get(Course, "an-toan-so")
    assert course is not None
    ids = []
    for _ in range(n):
        cert = certificates.issue(session, factories.user(session), course, now=now(), source="in_person")
        ids.append(cert.id)
    session.commit()
    return ids


def _regeneration(session: Session, ids: list[int]) -> Job:
    job = jobs.create(session, kind="certificates_regenerate", owner=None, now=now(), total=len(ids),
                      params={"ids": ids, "all": False})
    session.commit()
    return job


def test_progress_is_recorded_at_every_step(session: Session, sessions: sessionmaker[Session],
                                            settings: Settings) -> None:
    ids = _certificates(session, 2)
    job = _regeneration(session, ids)
    seen: list[tuple[int, int | None, int, str]] = []

    def watch(done: int, total: int | None) -> None:
        session.expire_all()
        stored = session.get(Job, job.id)
        assert stored is not None
        seen.append((done, total, stored.done, stored.status))

    assert job_runner.execute(sessions, job.id, settings=settings, on_progress=watch) == "done"
    assert seen == [(0, 2, 0, "running"), (1, 2, 1, "running"), (2, 2, 2, "running")]
    session.expire_all()
    assert {session.get(Certificate, i).pdf_status for i in ids} == {"ready"}  # type: ignore[union-attr]
    stored = session.get(Job, job.id)
    assert stored is not None and stored.status == "done" and stored.runs == 1
    assert stored.result == {"certificates": 2}
    # handed to a runner again (a duplicate on the queue, say): nothing runs twice
    assert job_runner.execute(sessions, job.id, settings=settings) == "done"
    session.expire_all()
    assert session.get(Job, job.id).runs == 1  # type: ignore[union-attr]


def test_a_stale_job_is_resumed_after_its_last_step(session: Session, sessions: sessionmaker[Session],
                                                    settings: Settings) -> None:
    ids = _certificates(session, 3)
    job = _regeneration(session, ids)
    job.status, job.done, job.runs, job.updated_at = "running", 1, 1, now() - timedelta(hours=1)
    live = jobs.create(session, kind="certificates_regenerate", owner=None, now=now(), total=0, params={"ids": []})
    live.status = "running"  # a job whose process is alive (fresh heartbeat) is left alone
    session.commit()
    assert job_runner.resume_stale(sessions, settings=settings, inline=True) == [job.id]
    session.expire_all()
    stored = session.get(Job, job.id)
    assert stored is not None and stored.status == "done" and stored.done == 3 and stored.runs == 2
    states = [session.get(Certificate, i).pdf_status for i in ids]  # type: ignore[union-attr]
    assert states == ["pending", "ready", "ready"]  # the first was done before the crash: skipped
    assert session.get(Job, live.id).status == "running"  # type: ignore[union-attr]


def test_a_job_that_keeps_dying_is_given_up(session: Session, sessions: sessionmaker[Session],
                                            settings: Settings) -> None:
    job = _regeneration(session, [])
    job.status, job.runs, job.updated_at = "running", jobs.MAX_RUNS, now() - timedelta(hours=1)
    session.commit()
    assert job_runner.resume_stale(sessions, settings=settings, inline=True) == []
    session.expire_all()
    stored = session.get(Job, job.id)
    assert stored is not None and stored.status == "failed" and stored.message


def test_only_the_owner_or_an_admin_sees_a_job(session: Session) -> None:
    owner, other = factories.user(session, role="manager", unit_code="86"), factories.user(session)
    admin = factories.user(session, role="admin")
    job = jobs.create(session, kind="report_export", owner=owner, now=now())
    assert jobs.get_for(session, owner, job.id) is job and jobs.get_for(session, admin, job.id) is job
    with pytest.raises(Forbidden):
        jobs.get_for(session, other, job.id)
    with pytest.raises(NotFound):
        jobs.get_for(session, owner, "0" * 32)
    assert [j.id for j in jobs.recent_for(session, owner, now=now())] == [job.id]
    assert jobs.recent_for(session, other, now=now()) == []


def test_an_export_job_runs_on_the_redis_queue(engine: Engine, worker_env: Settings, test_redis: Redis) -> None:
    redis = test_redis
    settings = replace(worker_env, redis_url=REDIS_URL)
    sessions = make_sessionmaker(engine, expire_on_commit=False)
    try:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            manager = factories.user(s, role="manager", unit_code="86")
            job = jobs.create(s, kind="report_export", owner=manager, now=now(), total=1,
                              params={"unit": "86", "year": now().year, "format": "csv",
                                      "header": ["a", "b", "c", "d", "e", "f"], "yes": "y", "no": "n"})
            job_id, user_id = job.id, manager.id
        assert job_runner.start(sessions, job_id, settings=settings) == "queued"
        queue = Queue(QUEUE, connection=redis)
        assert queue.count == 1
        SimpleWorker([queue], connection=redis).work(burst=True)
        with make_sessionmaker(engine, expire_on_commit=True)() as s:
            stored = s.get(Job, job_id)
            assert stored is not None and stored.status == "done", stored.message if stored else None
            assert stored.output is not None and stored.output.startswith("\ufeffa,b,c".encode())
    finally:
        with make_sessionmaker(engine, expire_on_commit=True)() as s, s.begin():
            s.execute(delete(Job).where(Job.owner_id == user_id))
            s.execute(delete(User).where(User.id == user_id))
