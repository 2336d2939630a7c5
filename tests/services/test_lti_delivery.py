"""Scores for LTI platforms leave through the jobs machinery: with Redis a web process hands the
sending to the queue's workers (RQ), without it the web process sends them itself; in both, a
score is written in the grading's transaction and sent once."""

from __future__ import annotations

from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings
from lms.jobs import QUEUE
from lms.services import lti, quizzes
from lms.store import User
from lms.store.models import LtiGradeLink, LtiPlatform, LtiScore
from tests import factories
from tests.databases import REDIS_URL
from tests.lti_platform import Platform

QUIZ = "an-toan-so-bai-01"


def _graded_attempt_with_a_line_item(engine: Engine, p: Platform) -> tuple[int, int]:
    """A learner who opened the quiz from a launch with a line item, and then finished it."""
    with Session(engine) as s, s.begin():
        platform = lti.add_platform(s, issuer=p.issuer, client_id=p.client_id, deployment_id=p.deployment_id,
                                    auth_login_url=p.url + "/auth", auth_token_url=p.url + "/token",
                                    keyset_url=p.url + "/jwks", now=factories.now())
        learner = factories.user(s)
        s.add(LtiGradeLink(platform_id=platform.id, user_id=learner.id, quiz_id=QUIZ, lineitem=p.lineitem,
                           subject="sub-rq", launched_at=factories.now()))
        s.flush()
        attempt = quizzes.start_attempt(s, learner, QUIZ, now=factories.now())
        quizzes.submit_attempt(s, learner, attempt.id, now=factories.now())
        p.tool_keyset = lti.jwks(s, factories.now())
        return platform.id, learner.id


def _clean(engine: Engine, platform_id: int, user_id: int) -> None:
    with Session(engine) as s, s.begin():
        s.execute(delete(LtiPlatform).where(LtiPlatform.id == platform_id))
        s.execute(delete(User).where(User.id == user_id))


def test_with_redis_the_queue_workers_send_the_score(engine: Engine, worker_env: Settings, test_redis: Redis) -> None:
    redis = test_redis
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with Platform().running() as p:
        platform_id, user_id = _graded_attempt_with_a_line_item(engine, p)
        try:
            rounds = lti.DeliveryRounds(sessions=lambda: sessions, redis_url=REDIS_URL, now=factories.now)
            assert rounds() == rounds.requeue_after
            rounds()  # due again at once: not queued a second time within requeue_after
            queue = Queue(QUEUE, connection=redis)
            assert queue.count == 1 and p.scores == []
            SimpleWorker([queue], connection=redis).work(burst=True)
            assert len(p.scores) == 1 and p.scores[0]["auth_ok"]
            assert p.scores[0]["body"]["userId"] == "sub-rq"
            with Session(engine) as s:
                assert s.scalars(select(LtiScore.status).join(LtiGradeLink)
                                 .where(LtiGradeLink.user_id == user_id)).all() == ["sent"]
            assert rounds() == 30.0  # nothing due: the next look is later
        finally:
            _clean(engine, platform_id, user_id)


def test_without_redis_the_web_process_sends_it_itself(engine: Engine) -> None:
    sessions = sessionmaker(bind=engine, expire_on_commit=False)
    with Platform().running() as p:
        platform_id, user_id = _graded_attempt_with_a_line_item(engine, p)
        try:
            rounds = lti.DeliveryRounds(sessions=lambda: sessions, redis_url=None, now=factories.now)
            rounds()
            rounds()
            assert len(p.scores) == 1 and not p.scores[0]["failed"]
        finally:
            _clean(engine, platform_id, user_id)
