"""Learning records (API.md "Learning records (xAPI 1.0.3)") against a real LRS, ralph, started
on loopback: statements are written in the event's transaction, arrive, pass ralph's full xAPI
1.0.3 model, survive the LRS being down, and arrive exactly once."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from lms.config import Settings
from lms.domain import xapi
from lms.jobs.xapi import Lrs, SenderLoop
from lms.services import catalogue, certificates, quizzes, statements
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Course, Lesson, Quiz, User
from lms.store.models import XapiStatement
from tests import factories
from tests.factories import now
from tests.xapi_lrs import Ralph, validate

PUBLIC = "https://hoc.vinhlong.example.vn"
COURSE = "an-toan-so"
FINAL = "an-toan-so-cuoi-khoa"


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    lrs = Ralph(tmp_path_factory.mktemp("ralph"))
    lrs.start()
    yield lrs
    lrs.stop()


@pytest.fixture()
def lrs_settings(settings: Settings, ralph: Ralph) -> Settings:
    return replace(settings, xapi_endpoint=ralph.endpoint, xapi_username=ralph.username,
                   xapi_password=ralph.password, public_url=PUBLIC, redis_url=None)


@pytest.fixture()
def sessions(connection: Connection, lrs_settings: Settings) -> sessionmaker[Session]:
    """The LMS's sessionmaker as the app binds it, inside the test's rolled-back transaction."""
    made = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    statements.bind(made, lrs_settings)
    return made


def _target(sessions: sessionmaker[Session]) -> statements.Target:
    target = sessions.kw["info"]["lms.xapi.target"]
    assert isinstance(target, statements.Target)
    return target


def _learner_finishes_course(sessions: sessionmaker[Session], *, revoke: bool = False) -> dict[str, Any]:
    """Two lessons, the final (answered badly: failed), the certificate, maybe its revocation."""
    with sessions() as s, s.begin():
        user = factories.user(s, full_name="Lê Thị Xuân Mai")
        lessons = list(s.scalars(select(Lesson).where(Lesson.course_id == COURSE).order_by(Lesson.position)))[:2]
        for lesson in lessons:
            catalogue.complete_lesson(s, user, lesson.id, now=now())
        attempt = quizzes.start_attempt(s, user, FINAL, now=now())
        graded = quizzes.submit_attempt(s, user, attempt.id, now=now())
        course = s.get(Course, COURSE)
        assert course is not None
        cert = certificates.issue(s, user, course, now=now(), source="online")
        if revoke:
            certificates.revoke(s, cert.code, "Cấp nhầm", now=now())
        return {"user_id": user.id, "login": user.login, "lessons": [les.id for les in lessons],
                "score": graded.score, "max": graded.max_score, "passed": graded.passed, "code": cert.code}


def _outbox(s: Session) -> list[XapiStatement]:
    return list(s.scalars(select(XapiStatement).order_by(XapiStatement.seq)))


def _fill(sessions: sessionmaker[Session], count: int, *, user_id: int = 1) -> list[str]:
    """``count`` lesson statements straight into the outbox (a backlog), returns their ids."""
    target = _target(sessions)
    place = xapi.Place(PUBLIC, xapi.actor_name(target.actor_key, user_id), "28756", "86")
    ids, rows, t = [], [], now()
    for n in range(count):
        sid = str(uuid.uuid4())
        st = xapi.lesson_completed(sid, place, lesson_id=f"bai-{n}", lesson_title=f"Bài {n}", course_id=COURSE,
                                   course_title="An toàn số", now=t)
        rows.append({"id": sid, "verb": "completed", "body": json.dumps(st, ensure_ascii=False), "created_at": t,
                     "tries": 0})
        ids.append(sid)
    with sessions() as s, s.begin():
        s.execute(insert(XapiStatement), rows)
    return ids


def test_without_an_lrs_nothing_is_written(session: Session) -> None:
    user = factories.user(session)
    catalogue.complete_lesson(session, user, f"{COURSE}-01", now=now())
    assert session.scalar(select(func.count()).select_from(XapiStatement)) == 0


def test_a_rolled_back_event_leaves_no_statement(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        user_id = factories.user(s).id
    with pytest.raises(RuntimeError), sessions() as s, s.begin():
        catalogue.complete_lesson(s, s.get_one(User, user_id), f"{COURSE}-01", now=now())
        assert len(_outbox(s)) == 1
        raise RuntimeError("the request failed after the completion")
    with sessions() as s:
        assert _outbox(s) == []


def test_statements_arrive_at_the_lrs_and_pass_its_xapi_model(sessions: sessionmaker[Session], ralph: Ralph,
                                                              tmp_path: Path) -> None:
    facts = _learner_finishes_course(sessions, revoke=True)
    with sessions() as s:
        rows = _outbox(s)
    assert [r.verb for r in rows] == ["completed", "completed", "failed", "earned", "voided"]
    result = statements.flush(sessions, _target(sessions))
    assert (result.sent, result.pending, result.rejected, result.error) == (5, 0, 0, None)
    stored = {st["id"]: st for st in ralph.statements()}
    mine = [stored[r.id] for r in rows if r.id in stored]
    assert len(mine) == 5, "every statement reached the LRS"
    assert validate(mine, tmp_path) == []
    assert ralph.refusals() == []

    completed, _, failed, earned, voided = mine
    actor = completed["actor"]
    assert actor["account"]["homePage"] == PUBLIC and set(actor) <= {"objectType", "account"}
    assert all(st["actor"]["account"] == actor["account"] for st in mine)
    text = json.dumps(mine, ensure_ascii=False).casefold()
    assert facts["login"].casefold() not in text and "xuân mai" not in text
    assert completed["verb"]["id"] == xapi.COMPLETED
    assert completed["object"]["id"] == f"{PUBLIC}/lessons/{facts['lessons'][0]}"
    assert completed["object"]["definition"]["type"] == xapi.LESSON
    assert completed["context"]["contextActivities"]["parent"][0]["id"] == f"{PUBLIC}/courses/{COURSE}"
    assert completed["context"]["language"] == "vi"
    assert completed["context"]["extensions"] == {f"{PUBLIC}/xapi/extensions/commune": "28756",
                                                  f"{PUBLIC}/xapi/extensions/province": "86"}
    assert failed["verb"]["id"] == (xapi.PASSED if facts["passed"] else xapi.FAILED)
    assert failed["object"]["definition"]["type"] == xapi.ASSESSMENT
    assert failed["result"]["success"] is facts["passed"]
    assert failed["result"]["score"]["raw"] == facts["score"] and failed["result"]["score"]["max"] == facts["max"]
    assert failed["result"]["score"]["scaled"] == pytest.approx(facts["score"] / facts["max"], abs=1e-4)
    assert earned["verb"]["id"] == xapi.EARNED and facts["code"] not in json.dumps(earned)
    assert voided["verb"]["id"] == xapi.VOIDED and voided["object"] == {"objectType": "StatementRef",
                                                                        "id": earned["id"]}
    with sessions() as s:
        assert statements.status(s)["pending"] == 0 and all(r.sent_at is not None for r in _outbox(s))


def test_odd_scores_still_make_valid_statements(tmp_path: Path) -> None:
    place = xapi.Place(PUBLIC, "a" * 32)
    made = [xapi.attempt_graded(str(uuid.uuid4()), place, quiz_id="q", quiz_title="Q", course_id="c",
                                course_title="C", score=score, max_score=top, passed=False, attempt_number=1,
                                now=now())
            for score, top in ((-2.0, 10.0), (0.0, 0.0), (12.0, 10.0), (7.5, 10.0))]
    assert validate(made, tmp_path) == []
    assert [st["result"]["score"].get("scaled") for st in made] == [-0.2, None, 1.0, 0.75]


def test_lrs_down_loses_nothing_and_back_up_delivers_once(sessions: sessionmaker[Session], ralph: Ralph) -> None:
    ids = _fill(sessions, 3)
    ralph.stop()
    try:
        down = statements.flush(sessions, _target(sessions))
        assert (down.sent, down.pending) == (0, 3) and down.error
        with sessions() as s:
            assert all(r.sent_at is None and r.tries == 1 and r.claimed_by is None for r in _outbox(s))
            assert statements.status(s)["last_error"]
    finally:
        ralph.start()
    back = statements.flush(sessions, _target(sessions))
    assert (back.sent, back.pending, back.error) == (3, 0, None)
    again = statements.flush(sessions, _target(sessions))
    assert (again.sent, again.pending) == (0, 0)
    stored = [st["id"] for st in ralph.statements()]
    assert all(stored.count(i) == 1 for i in ids)


def test_replay_resends_the_same_statements_without_duplicates(sessions: sessionmaker[Session],
                                                               ralph: Ralph) -> None:
    ids = _fill(sessions, 4)
    assert statements.flush(sessions, _target(sessions)).sent == 4
    with sessions() as s, s.begin():
        assert statements.replay(s, since=now() - timedelta(hours=1)) == 4
    with sessions() as s:
        before = [r.body for r in _outbox(s)]
    resent = statements.flush(sessions, _target(sessions))
    assert (resent.sent, resent.pending) == (4, 0)
    with sessions() as s:
        assert [r.body for r in _outbox(s)] == before  # byte for byte what was sent the first time
    stored = [st["id"] for st in ralph.statements()]
    assert all(stored.count(i) == 1 for i in ids) and ralph.refusals() == []


def test_a_backlog_goes_in_pages_of_the_batch_size(sessions: sessionmaker[Session], ralph: Ralph) -> None:
    ids = _fill(sessions, 1203)
    posts = ralph.post_count()
    result = statements.flush(sessions, _target(sessions), batch=500)
    assert (result.sent, result.pending) == (1203, 0)
    assert ralph.post_count() - posts == 3
    assert set(ids) <= {st["id"] for st in ralph.statements()}


def test_a_refused_statement_does_not_hold_back_the_others(sessions: sessionmaker[Session], ralph: Ralph) -> None:
    good = _fill(sessions, 2)
    bad = str(uuid.uuid4())
    with sessions() as s, s.begin():
        s.add(XapiStatement(id=bad, verb="completed", body=json.dumps({"id": bad, "verb": {"id": "nope"}}),
                            created_at=now(), tries=0))
    good += _fill(sessions, 2)
    result = statements.flush(sessions, _target(sessions))
    assert (result.sent, result.rejected, result.pending) == (4, 1, 0)
    with sessions() as s:
        assert statements.status(s)["rejected"] == 1
    assert set(good) <= {st["id"] for st in ralph.statements()}


def test_a_second_sender_never_posts_rows_the_first_holds(sessions: sessionmaker[Session], ralph: Ralph) -> None:
    _fill(sessions, 6)
    target = _target(sessions)
    real = Lrs(target.endpoint, target.username, target.password)
    inner: list[statements.FlushResult] = []

    class Meanwhile:
        """While the first sender has its page in flight, a second one flushes."""

        def deliver(self, rows: list[tuple[int, str]]) -> Any:
            if not inner:
                inner.append(statements.flush(sessions, target))
            return real.deliver(rows)

    first = statements.flush(sessions, target, batch=4, lrs=Meanwhile())
    real.close()
    assert inner[0].sent == 2  # only the two rows the first sender had not taken yet
    assert first.sent == 4 and first.pending == 0


def test_the_sender_loop_backs_off_while_the_lrs_is_down_and_wakes_on_new_work() -> None:
    calls: list[float] = []
    answers = iter([False, False, True, True])
    done = threading.Event()

    def work() -> bool:
        import time

        calls.append(time.monotonic())
        if len(calls) == 4:
            done.set()
        return next(answers, True)

    loop = SenderLoop(work, idle=60, first_wait=0.2, longest_wait=0.4).start()
    try:
        for _ in range(100):
            if len(calls) >= 3:
                break
            threading.Event().wait(0.05)
        assert len(calls) == 3  # tried, waited 0.2 s, tried, waited 0.4 s, succeeded; now idle for 60 s
        assert calls[2] - calls[1] >= calls[1] - calls[0] >= 0.2
        loop.wake()  # a commit wrote statements
        assert done.wait(5)
    finally:
        loop.stop(5)


def test_actor_names_are_stable_opaque_and_traceable_by_an_auditor(session: Session,
                                                                    lrs_settings: Settings) -> None:
    user = factories.user(session)
    account = statements.actor_for_login(session, lrs_settings, user.login)
    assert account == {"homePage": PUBLIC, "name": xapi.actor_name(lrs_settings.xapi_actor_key, user.id)}
    assert account["name"] == statements.actor_for_login(session, lrs_settings, user.login.upper())["name"]
    assert user.login not in account["name"] and len(account["name"]) == 32
    assert statements.login_for_actor(session, lrs_settings, account["name"]) == user.login
    other = replace(lrs_settings, xapi_actor_key="another installation")
    assert statements.actor_for_login(session, other, user.login) != account


def test_quizzes_of_lessons_are_recorded_as_assessments_too(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        user = factories.user(s)
        practice = s.scalar(select(Quiz.id).where(Quiz.course_id == COURSE, Quiz.kind == "lesson").limit(1))
        assert practice is not None
        attempt = quizzes.start_attempt(s, user, practice, now=now())
        quizzes.submit_attempt(s, user, attempt.id, now=now())
        quizzes.submit_attempt(s, user, attempt.id, now=now())  # submitted twice: graded once
    with sessions() as s:
        rows = _outbox(s)
    assert [r.verb for r in rows] in (["failed"], ["passed"])


def test_the_sender_is_woken_once_after_the_commit_not_at_a_savepoint(connection: Connection,
                                                                        lrs_settings: Settings) -> None:
    woken: list[int] = []
    made = make_sessionmaker(connection, join_transaction_mode="create_savepoint")
    statements.bind(made, lrs_settings, wake=lambda: woken.append(1))
    with made() as s:
        with s.begin():
            user = factories.user(s)
            catalogue.complete_lesson(s, user, f"{COURSE}-01", now=now())  # writes inside a savepoint
            catalogue.complete_lesson(s, user, f"{COURSE}-02", now=now())
            assert woken == []
        assert woken == [1]
        with s.begin():
            s.get(Course, COURSE)  # a transaction that writes no statement wakes nobody
        assert woken == [1]
