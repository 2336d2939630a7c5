"""Removing a platform (`lms lti platforms remove`): a deployment alone, or the whole platform with
what only it used; refused while scores still wait to be sent to it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from lms.services import lti, quizzes
from lms.services.errors import Conflict, NotFound
from lms.store import Attempt, AuditEvent, User
from lms.store.models import LtiGradeLink, LtiPlatform, LtiScore
from tests import factories

QUIZ = "an-toan-so-bai-01"
ISSUER = "https://moodle-remove.example.vn"


def _platform_with_a_waiting_score(s: Session) -> tuple[int, int]:
    platform = lti.add_platform(s, issuer=ISSUER, client_id="rm", deployment_id="1",
                                auth_login_url=ISSUER + "/auth", auth_token_url=ISSUER + "/token",
                                keyset_url=ISSUER + "/jwks", now=factories.now())
    lti.add_platform(s, issuer=ISSUER, client_id="rm", deployment_id="2", auth_login_url=ISSUER + "/auth",
                     auth_token_url=ISSUER + "/token", keyset_url=ISSUER + "/jwks", now=factories.now())
    learner = factories.user(s)
    s.add(LtiGradeLink(platform_id=platform.id, user_id=learner.id, quiz_id=QUIZ, lineitem=ISSUER + "/lineitem/1",
                       subject="sub-rm", launched_at=factories.now()))
    s.flush()
    attempt = quizzes.start_attempt(s, learner, QUIZ, now=factories.now())
    quizzes.submit_attempt(s, learner, attempt.id, now=factories.now())  # its score waits for the platform
    return platform.id, learner.id


def _waiting(s: Session, platform_id: int) -> int:
    return s.scalar(select(func.count()).select_from(LtiScore).join(LtiGradeLink)
                    .where(LtiGradeLink.platform_id == platform_id)) or 0


def test_a_deployment_goes_alone_and_the_platform_with_its_last(engine: Engine) -> None:
    with Session(engine) as s, s.begin():
        platform_id, user_id = _platform_with_a_waiting_score(s)
    try:
        with Session(engine) as s, s.begin():
            with pytest.raises(NotFound):
                lti.remove_platform(s, platform_id, deployment_id="9", now=factories.now())
            kept = lti.remove_platform(s, platform_id, deployment_id="1", now=factories.now())
            assert kept == {"platform_id": platform_id, "removed": "deployment", "deployment_ids": ["2"]}
            assert _waiting(s, platform_id) == 1  # the platform and its scores stay
        with Session(engine) as s, s.begin():  # the last deployment: the whole platform, refused while a score waits
            with pytest.raises(Conflict) as refused:
                lti.remove_platform(s, platform_id, deployment_id="2", now=factories.now())
            assert refused.value.key == "lti.scores_pending" and refused.value.fields == {"scores": "1 not sent yet"}
        with Session(engine) as s:
            assert s.get(LtiPlatform, platform_id) is not None and _waiting(s, platform_id) == 1
        with Session(engine) as s, s.begin():
            gone = lti.remove_platform(s, platform_id, drop_pending_scores=True, now=factories.now())
            assert gone == {"platform_id": platform_id, "removed": "platform", "scores_dropped": 1}
        with Session(engine) as s:
            assert s.get(LtiPlatform, platform_id) is None
            assert s.scalar(select(func.count()).select_from(LtiGradeLink)
                            .where(LtiGradeLink.platform_id == platform_id)) == 0
            assert s.scalar(select(func.count()).select_from(LtiScore).join(Attempt)
                            .where(Attempt.user_id == user_id)) == 0  # its dropped score with it
            assert s.scalar(select(func.count()).select_from(Attempt).where(Attempt.user_id == user_id)) == 1
            assert s.get(User, user_id) is not None  # the account and its results stay
            actions = s.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "lti_platform",
                                                                AuditEvent.object_id == str(platform_id))
                                .order_by(AuditEvent.id)).all()
            assert actions == ["lti.deployment_remove", "lti.platform_remove"]
        with Session(engine) as s, s.begin(), pytest.raises(NotFound):
            lti.remove_platform(s, platform_id, now=factories.now())
    finally:
        with Session(engine) as s, s.begin():
            s.execute(delete(LtiPlatform).where(LtiPlatform.id == platform_id))
            s.execute(delete(User).where(User.id == user_id))
