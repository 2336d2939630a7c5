"""The autosave and the submission on a driver connection (quizzes.autosave, quizzes.submit_direct,
the attempt lane's plain case) store exactly what the session's use cases store, and hand every
other case back (None) with nothing written. They need an engine of their own, with committed
rows: a fresh database for this module."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from lms.services import quizzes
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Attempt, AttemptAnswer, AuditEvent, User
from lms.store.engine import database_answers
from tests import factories
from tests.conftest import KIND, seeded
from tests.databases import fresh_database
from tests.quizhelpers import correct_response

PRACTICE = "an-toan-so-bai-01"
FINAL = "dich-vu-cong-cuoi-khoa"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with fresh_database(KIND) as url:
        eng = seeded(url)
        yield eng
        eng.dispose()


@pytest.fixture()
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


def _learner(sessions: sessionmaker[Session]) -> tuple[User, str]:
    with sessions() as s, s.begin():
        user = factories.user(s)
        return user, factories.token(s, user)


def _started(sessions: sessionmaker[Session], user: User, quiz_id: str, at: datetime) -> Attempt:
    with sessions() as s, s.begin():
        return quizzes.start_attempt(s, user, quiz_id, now=at)


def _answers(sessions: sessionmaker[Session], attempt_id: str) -> dict[str, object]:
    with sessions() as s:
        return {a.question_id: a.response for a in s.scalars(select(AttemptAnswer).where(
            AttemptAnswer.attempt_id == attempt_id))}


def test_an_autosave_on_the_driver_stores_what_the_session_would(engine: Engine,
                                                                  sessions: sessionmaker[Session]) -> None:
    user, raw = _learner(sessions)
    attempt = _started(sessions, user, PRACTICE, factories.now())
    first, second = attempt.layout[0], attempt.layout[1]
    saved = quizzes.autosave(engine, raw, attempt.id, first["id"], correct_response(first), now=factories.now())
    assert saved is not None and saved.status == "saved" and saved.saved_at is not None
    again = quizzes.autosave(engine, raw, attempt.id, second["id"], correct_response(second), now=factories.now())
    assert again is not None
    assert _answers(sessions, attempt.id) == {first["id"]: correct_response(first),
                                              second["id"]: correct_response(second)}
    with sessions() as s:  # the session's use case reads them back and grades them
        graded = quizzes.submit_attempt(s, user, attempt.id, now=factories.now())
        assert graded.score == first["points"] + second["points"]


def test_an_autosave_the_session_must_answer_is_handed_back_with_nothing_written(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    user, raw = _learner(sessions)
    _other, other_raw = _learner(sessions)
    attempt = _started(sessions, user, PRACTICE, factories.now())
    snap = attempt.layout[0]
    assert quizzes.autosave(engine, "not-a-token", attempt.id, snap["id"], correct_response(snap),
                            now=factories.now()) is None
    assert quizzes.autosave(engine, other_raw, attempt.id, snap["id"], correct_response(snap),
                            now=factories.now()) is None  # not theirs
    assert quizzes.autosave(engine, raw, attempt.id, "no-such-question", "x", now=factories.now()) is None
    assert quizzes.autosave(engine, raw, "f" * 32, snap["id"], "x", now=factories.now()) is None
    assert _answers(sessions, attempt.id) == {}
    # a timed final answered after its deadline: the session grades it (lms.web.api answers 409)
    final = _started(sessions, user, FINAL, factories.now() - timedelta(hours=3))
    assert final.deadline_at is not None
    late = final.layout[0]
    assert quizzes.autosave(engine, raw, final.id, late["id"], correct_response(late), now=factories.now()) is None
    with sessions() as s:
        row = s.get(Attempt, final.id)
        assert row is not None and row.status == "in_progress"
    assert _answers(sessions, final.id) == {}


def test_a_submission_on_the_driver_grades_once_and_is_logged(engine: Engine,
                                                              sessions: sessionmaker[Session]) -> None:
    user, raw = _learner(sessions)
    # the learner's first graded attempt of the year moves their figures: the session does it
    first = _started(sessions, user, PRACTICE, factories.now())
    assert quizzes.submit_direct(engine, raw, first.id, now=factories.now(), source="10.0.0.7") is None
    with sessions() as s, s.begin():
        assert s.get(Attempt, first.id).status == "in_progress"  # type: ignore[union-attr]
        quizzes.submit_attempt(s, user, first.id, now=factories.now())
    attempt = _started(sessions, user, PRACTICE, factories.now())
    snap = attempt.layout[0]
    assert quizzes.autosave(engine, raw, attempt.id, snap["id"], correct_response(snap), now=factories.now())
    result = quizzes.submit_direct(engine, raw, attempt.id, now=factories.now(), source="10.0.0.7")
    assert result is not None and result["attempt_id"] == attempt.id and result["score"] == snap["points"]
    with sessions() as s:
        stored = s.get(Attempt, attempt.id)
        assert stored is not None and stored.status == "submitted" and stored.score == snap["points"]
        assert stored.result is not None and stored.result["score"] == result["score"]
        assert quizzes.attempt_result(s, stored) == result  # what the session's view would answer
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "attempt.grade",
                                                     AuditEvent.object_id == attempt.id))
        assert (event.actor_id, event.source, event.detail["finished_by"]) == (user.id, "10.0.0.7", "learner")
    # graded already: handed back (the session's use case answers with the stored result)
    assert quizzes.submit_direct(engine, raw, attempt.id, now=factories.now(), source="10.0.0.7") is None
    with sessions() as s:
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.object_id == attempt.id)).all()) == 1
    # and an answer sent after the submission changes nothing
    assert quizzes.autosave(engine, raw, attempt.id, snap["id"], "khác", now=factories.now()) is None
    assert _answers(sessions, attempt.id) == {snap["id"]: correct_response(snap)}


def test_an_autosave_waits_for_a_submission_in_progress_and_is_then_refused(
        engine: Engine, sessions: sessionmaker[Session]) -> None:
    """The submission's locked read orders it with an autosave of the same attempt: an answer that
    arrives while the grading is being written is not acknowledged and left out of the grade."""
    user, raw = _learner(sessions)
    attempt = _started(sessions, user, PRACTICE, factories.now())
    snap = attempt.layout[0]
    outcome: list[object] = []
    with sessions() as s, s.begin():
        quizzes.submit_attempt(s, user, attempt.id, now=factories.now())  # holds the row (or SQLite's write lock)
        worker = threading.Thread(target=lambda: outcome.append(quizzes.autosave(
            engine, raw, attempt.id, snap["id"], correct_response(snap), now=factories.now())))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive()  # waiting for the grading's transaction
    worker.join(30)  # a hang guard
    assert outcome == [None]
    assert _answers(sessions, attempt.id) == {}
    with sessions() as s:
        stored = s.get(Attempt, attempt.id)
        assert stored is not None and stored.status == "submitted" and stored.score == 0


def test_passing_a_final_on_the_driver_is_handed_back_for_its_certificate(engine: Engine,
                                                                          sessions: sessionmaker[Session]) -> None:
    user, raw = _learner(sessions)
    warm = _started(sessions, user, PRACTICE, factories.now())
    with sessions() as s, s.begin():
        quizzes.submit_attempt(s, user, warm.id, now=factories.now())  # not the first of the year
    final = _started(sessions, user, FINAL, factories.now())
    for snap in final.layout:
        assert quizzes.autosave(engine, raw, final.id, snap["id"], correct_response(snap), now=factories.now())
    assert quizzes.submit_direct(engine, raw, final.id, now=factories.now(), source="10.0.0.7") is None
    with sessions() as s:
        row = s.get(Attempt, final.id)
        assert row is not None and row.status == "in_progress"


def test_a_start_on_the_driver_draws_a_new_attempt_or_hands_the_case_back(engine: Engine,
                                                                           sessions: sessionmaker[Session]) -> None:
    user, raw = _learner(sessions)
    done = _started(sessions, user, PRACTICE, factories.now())
    with sessions() as s, s.begin():
        quizzes.submit_attempt(s, user, done.id, now=factories.now())
    with sessions() as s:
        quizzes.read_for_start(s, PRACTICE)  # the worker keeps this version (the lane's first start does it)
    assert quizzes.start_direct(engine, "not-a-token", PRACTICE, now=factories.now()) is None
    assert quizzes.start_direct(engine, raw, "no-such-quiz", now=factories.now()) is None
    assert quizzes.start_direct(engine, raw, FINAL, now=factories.now()) is None  # a final's limits: the session
    attempt = quizzes.start_direct(engine, raw, PRACTICE, now=factories.now())
    assert attempt is not None and attempt.number == 2 and attempt.status == "in_progress"
    with sessions() as s:
        stored = s.get(Attempt, attempt.id)
        assert stored is not None and stored.user_id == user.id and stored.number == 2
        assert stored.layout == attempt.layout and stored.started_at == attempt.started_at
        assert [q["id"] for q in quizzes.learner_questions(stored)] == [snap["id"] for snap in attempt.layout]
    # one open attempt per learner and quiz: the next start resumes it, through the session
    assert quizzes.start_direct(engine, raw, PRACTICE, now=factories.now()) is None
    with sessions() as s, s.begin():
        resumed = quizzes.start(s, user, PRACTICE, now=factories.now())
        assert resumed.attempt is not None and resumed.attempt.id == attempt.id and not resumed.new


def test_the_site_s_lane_runs_the_cycle_on_the_driver(engine: Engine, sessions: sessionmaker[Session],
                                                      tmp_path: Path) -> None:
    """lms.wsgi's app (create_app over an engine of its own): start, autosave and submit answered
    in front of Flask on the driver; an odd request still gets Flask's answer, never a crash."""
    from lms import create_app
    from lms.config import Settings

    user, raw = _learner(sessions)
    warm = _started(sessions, user, PRACTICE, factories.now())
    with sessions() as s, s.begin():
        quizzes.submit_attempt(s, user, warm.id, now=factories.now())  # not the first of the year
    app = create_app(Settings.load({"LMS_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                                    "LMS_INSTANCE_PATH": str(tmp_path), "LMS_SECRET_KEY": "s" * 64}))
    app.config["TESTING"] = True
    flask_saw: list[str] = []
    app.before_request(lambda: flask_saw.append("flask"))
    client, auth = app.test_client(), factories.bearer(raw)
    started = client.post(f"/api/v1/quizzes/{PRACTICE}/attempts", headers=auth)  # reads the quiz through Flask
    assert started.status_code == 201 and started.json is not None
    client.post(f"/api/v1/attempts/{started.json['attempt_id']}/submission", headers=auth)
    flask_saw.clear()
    started = client.post(f"/api/v1/quizzes/{PRACTICE}/attempts", headers=auth)
    assert started.status_code == 201 and started.json is not None and started.json["saved"] == {}
    attempt = started.json["attempt_id"]
    with sessions() as s:
        layout = s.get(Attempt, attempt).layout  # type: ignore[union-attr]
    for snap in layout:
        saved = client.put(f"/api/v1/attempts/{attempt}/answers/{snap['id']}",
                           json={"response": correct_response(snap)}, headers=auth)
        assert saved.status_code == 200
    graded = client.post(f"/api/v1/attempts/{attempt}/submission", headers=auth)
    assert graded.status_code == 200 and graded.json is not None and graded.json["percent"] == 100
    assert flask_saw == []  # all on the driver
    assert client.post("/api/v1/quizzes/a%00b/attempts", headers=auth).status_code == 404
    odd = client.put(f"/api/v1/attempts/{attempt}/answers/x", json={"response": 1e400}, headers=auth)  # Infinity
    assert 400 <= odd.status_code < 500 and odd.json is not None and "error" in odd.json
    assert flask_saw == ["flask", "flask"]
    app.extensions["lms"].engine.dispose()


def _server_drops_connections(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.execute(text("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "  # waits for each to end
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()"))


@pytest.mark.skipif(KIND != "postgres", reason="SQLite has no server to drop a connection")
def test_a_connection_the_server_dropped_fails_once_and_is_replaced(engine: Engine,
                                                                   sessions: sessionmaker[Session]) -> None:
    """The hot path's pool does not ping (lms.store.engine.unpinged): a connection the server ended
    fails its request (which the lane then hands to Flask's view) and is dropped, not reused."""
    user, raw = _learner(sessions)
    attempt = _started(sessions, user, PRACTICE, factories.now())
    snap = attempt.layout[0]
    assert quizzes.autosave(engine, raw, attempt.id, snap["id"], correct_response(snap), now=factories.now())
    _server_drops_connections(sessions)
    with pytest.raises(psycopg.OperationalError):
        quizzes.autosave(engine, raw, attempt.id, snap["id"], correct_response(snap), now=factories.now())
    assert quizzes.autosave(engine, raw, attempt.id, snap["id"], correct_response(snap), now=factories.now())
    _server_drops_connections(sessions)
    assert database_answers(engine)  # /healthz: the dead connection dropped, the pool that pings asked
    assert database_answers(engine)



@pytest.mark.skipif(KIND != "postgres", reason="SQLite has no round trips")
def test_the_hot_path_s_round_trips_on_postgresql(engine: Engine, sessions: sessionmaker[Session],
                                                   tmp_path: Path) -> None:
    """What each hot request exchanges with the server, read from libpq's protocol trace of the
    driver connection (one exchange ends with the server's ReadyForQuery): a start two statements,
    an autosave one, each a transaction of its own with no BEGIN or COMMIT around it; a submission
    BEGIN, the locked read, the grade with its audit event, COMMIT (issue 14)."""
    from lms.store import direct

    engine.dispose()  # no connection another test left behind (one the server ended, say)
    user, raw = _learner(sessions)
    done = _started(sessions, user, PRACTICE, factories.now())
    with sessions() as s, s.begin():  # the year's first graded attempt: the session's case
        quizzes.submit_attempt(s, user, done.id, now=factories.now())
    with sessions() as s:
        quizzes.read_for_start(s, PRACTICE)  # the worker keeps this version
    with direct.driver(engine) as drv:  # given back idle: the next request is lent this one
        traced = drv.connection

    def exchanges(request: Callable[[], object]) -> tuple[object, list[str]]:
        log = tmp_path / "trace.txt"
        with log.open("w") as out:
            traced.pgconn.trace(out.fileno())
            traced.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
            try:
                answer = request()
            finally:
                traced.pgconn.untrace()
        sent = [line.split("\t") for line in log.read_text().splitlines()]
        assert sum(1 for row in sent if row[0] == "B" and row[2].startswith("ReadyForQuery")) == \
            sum(1 for row in sent if row[0] == "F" and row[2].startswith(("Sync", "Query")))
        return answer, [row[3].strip() if row[2].startswith("Query") else "statement"
                        for row in sent if row[0] == "F" and row[2].startswith(("Sync", "Query"))]

    attempt, sent = exchanges(lambda: quizzes.start_direct(engine, raw, PRACTICE, now=factories.now()))
    assert isinstance(attempt, Attempt) and sent == ["statement", "statement"]
    snap = attempt.layout[0]
    saved, sent = exchanges(lambda: quizzes.autosave(engine, raw, attempt.id, snap["id"], correct_response(snap),
                                                     now=factories.now()))
    assert saved is not None and sent == ["statement"]
    result, sent = exchanges(lambda: quizzes.submit_direct(engine, raw, attempt.id, now=factories.now(),
                                                           source="10.0.0.7"))
    assert result is not None and sent == ['"BEGIN"', "statement", "statement", '"COMMIT"']
