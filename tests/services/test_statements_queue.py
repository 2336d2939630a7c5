"""With LMS_REDIS_URL set, the RQ worker sends the statements: a flush job is queued once the
event's transaction commits, and while the LRS is down the job schedules itself again later."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.jobs import QUEUE
from lms.services import catalogue, statements
from lms.services.unit_of_work import make_sessionmaker
from lms.store import LessonCompletion, User
from lms.store.models import XapiStatement
from tests import factories
from tests.databases import REDIS_URL
from tests.factories import now
from tests.xapi_lrs import Ralph


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    lrs = Ralph(tmp_path_factory.mktemp("ralph-rq"))
    lrs.start()
    yield lrs
    lrs.stop()


def test_the_worker_sends_after_commit_and_retries_later_while_the_lrs_is_down(
        engine: Engine, worker_env: Settings, test_redis: Redis, ralph: Ralph, monkeypatch: pytest.MonkeyPatch) -> None:
    redis = test_redis
    for key, value in {"LMS_REDIS_URL": REDIS_URL, "LMS_XAPI_ENDPOINT": ralph.endpoint,
                       "LMS_XAPI_USERNAME": ralph.username, "LMS_XAPI_PASSWORD": ralph.password}.items():
        monkeypatch.setenv(key, value)
    sessions = make_sessionmaker(engine)
    statements.bind(sessions, Settings.load())
    queue = Queue(QUEUE, connection=redis)
    user_id = None
    try:
        with sessions() as s, s.begin():
            user = factories.user(s)
            user_id = user.id
            catalogue.complete_lesson(s, user, "an-toan-so-01", now=now())
            assert queue.count == 0  # nothing is queued before the commit
        assert queue.count == 1
        SimpleWorker([queue], connection=redis).work(burst=True)
        with Session(engine) as s:
            first = s.scalars(select(XapiStatement)).one()
            assert first.sent_at is not None
        assert [st["id"] for st in ralph.statements()].count(first.id) == 1

        ralph.stop()
        try:
            with sessions() as s, s.begin():
                catalogue.complete_lesson(s, s.get_one(User, user_id), "an-toan-so-02", now=now())
            SimpleWorker([queue], connection=redis).work(burst=True)
            assert queue.scheduled_job_registry.count == 1  # tried, failed, comes back later
            with Session(engine) as s:
                assert statements.status(s)["pending"] == 1
        finally:
            ralph.start()
        assert statements.flush_job(retry=1) == {"sent": 1, "pending": 0}  # what the scheduled run does
    finally:
        with Session(engine) as s, s.begin():
            s.execute(delete(XapiStatement))
            s.execute(delete(LessonCompletion).where(LessonCompletion.user_id == user_id))
            s.execute(delete(User).where(User.id == user_id))
