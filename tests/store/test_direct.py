"""Statements on the driver (lms.store.direct) store and read values exactly as SQLAlchemy's column
types do, on SQLite and PostgreSQL, and join or stay apart from the session's transaction as
documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from lms.services import quizzes
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Attempt, AttemptAnswer, AuditEvent, direct
from lms.store.engine import idle, loads_json
from tests import factories
from tests.quizhelpers import correct_response

RESPONSES = ["c1", "Đúng rồi", 3, 2.5, True, ["b", "a"], {"l1": "r2", "l2": "r1"}, "", "42",
             [-9223372036854775808, 18446744073709551615, 123456789012345678901234567890, 1e300]]


def test_values_cross_the_driver_as_the_column_types_store_them(session: Session) -> None:
    learner = factories.user(session)
    started = datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=UTC)
    session.add(Attempt(id="d" * 32, quiz_id="an-toan-so-bai-01", user_id=learner.id, number=1,
                        status="in_progress", started_at=started, layout=[{"id": "q", "order": ["x"]}]))
    session.flush()
    dialect = direct.dialect_of(session)
    row = direct.execute(session, direct.Sql("SELECT started_at, layout FROM attempts WHERE id = :id"),
                         {"id": "d" * 32}).fetchone()
    assert direct.read_stamp(row[0]) == started
    assert direct.read_json(row[1], dialect) == [{"id": "q", "order": ["x"]}]
    upsert = direct.Sql("INSERT INTO attempt_answers (attempt_id, question_id, response, saved_at) "
                        "VALUES (:a, :q, :r, :t)")
    for i, response in enumerate(RESPONSES):
        direct.execute(session, upsert, {"a": "d" * 32, "q": f"q{i}", "r": direct.dump_json(response),
                                         "t": direct.stamp(started + timedelta(seconds=i), dialect)})
    through_orm = {a.question_id: (a.response, a.saved_at) for a in session.scalars(
        select(AttemptAnswer).where(AttemptAnswer.attempt_id == "d" * 32))}
    assert through_orm == {f"q{i}": (r, started + timedelta(seconds=i)) for i, r in enumerate(RESPONSES)}
    back = dict(direct.execute(session, direct.Sql("SELECT question_id, response FROM attempt_answers "
                                                   "WHERE attempt_id = :a"), {"a": "d" * 32}).fetchall())
    assert {q: direct.read_json(v, dialect) for q, v in back.items()} == {f"q{i}": r for i, r in enumerate(RESPONSES)}
    # a stamp compares in SQL with what the ORM stored (text on SQLite: the same format)
    later = direct.execute(session, direct.Sql("SELECT count(*) FROM attempt_answers WHERE attempt_id = :a "
                                               "AND saved_at >= :t"),
                           {"a": "d" * 32, "t": direct.stamp(started + timedelta(seconds=5), dialect)}).fetchone()
    assert later[0] == len(RESPONSES) - 5


@pytest.mark.parametrize("text", ['{"a": [1, 2.5, "Việt", null, true]}', "123456789012345678901234567890",
                                  "[-123456789012345678901, 18446744073709551615]", "NaN", "[Infinity, -Infinity]",
                                  '"\\ud800"', '{"a": 1, "a": 2}', '"an account 12345678901234567890 in text"'])
def test_json_text_reads_as_the_json_module_reads_it(text: str) -> None:
    expected = repr(json.loads(text))  # repr: NaN equals nothing, itself included
    for given in (text, text.encode(), memoryview(text.encode()), bytearray(text.encode())):
        assert repr(loads_json(given)) == expected
    with pytest.raises(ValueError):
        loads_json("[1, 2")


def test_statements_refuse_percent_signs_and_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        direct.Sql("SELECT 1 WHERE 'a' LIKE 'a%'")
    with pytest.raises(ValueError):
        direct.stamp(datetime(2026, 1, 1), "sqlite")
    assert direct.Sql("SELECT :a, x::text").text("postgresql") == "SELECT %(a)s, x::text"


def test_a_read_apart_needs_no_transaction_of_the_session_and_a_statement_joins_it(engine: Engine) -> None:
    maker = make_sessionmaker(engine)
    count = direct.Sql("SELECT count(*) FROM audit_events WHERE action = :action")
    with maker() as s:
        assert direct.row_apart(s, count, {"action": "test.direct"})[0] == 0
        # on SQLite the read took no transaction of the session (nor its write lock); on
        # PostgreSQL it joined the session's
        assert s.in_transaction() == (engine.dialect.name != "sqlite")
        s.rollback()
        with s.begin():
            direct.execute(s, direct.Sql(
                "INSERT INTO audit_events (at, actor_label, action, object_type, object_id, detail, source) "
                "VALUES (:at, 'cli', 'test.direct', 't', '1', '{}', 'cli')"),
                {"at": direct.stamp(datetime.now(UTC), engine.dialect.name)})
            assert direct.row_apart(s, count, {"action": "test.direct"})[0] == 1  # joined: sees its own row
            s.rollback()
    with maker() as s:
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "test.direct")) is None


def test_a_quiz_changed_after_attempts_started_is_drawn_and_graded_as_it_stands(session: Session,
                                                                                tmp_path: Path) -> None:
    """The quiz and its bank are kept per version for starting attempts: a change to the bank or
    to the pass mark is seen by the next attempt and the next grading."""
    trainer = factories.user(session, role="trainer")
    learner = factories.user(session)
    source = tmp_path / "q.gift"
    source.write_text("::A:: Một? {=Đúng ~Sai}\n", encoding="utf-8")
    quiz_id, _, _ = quizzes.import_file(session, source, course_id="an-toan-so", fmt=None, now=factories.now(),
                                        owner_id=trainer.id)
    first = quizzes.start_attempt(session, learner, quiz_id, now=factories.now())
    assert [snap["text_html"] for snap in first.layout] == ["Một?"]
    quizzes.submit(session, learner, first.id, now=factories.now(), settings=None)  # type: ignore[arg-type]
    quizzes.replace_bank_from_text(session, trainer, quiz_id, "::B:: Hai? {=Có ~Không}\n\n::C:: Ba? {=Có ~Không}\n",
                                   fmt="gift", now=factories.now() + timedelta(seconds=1))
    second = quizzes.start_attempt(session, learner, quiz_id, now=factories.now() + timedelta(seconds=2))
    assert sorted(snap["text_html"] for snap in second.layout) == ["Ba?", "Hai?"]
    snap = second.layout[0]
    quizzes.save_answer(session, learner, second.id, snap["id"], correct_response(snap),
                        now=factories.now() + timedelta(seconds=3))
    # half right: fails at the imported pass mark (70), passes once the trainer sets it to 50
    quizzes.update_quiz(session, trainer, quiz_id, title="Đổi tên", pass_mark=50, publish=True,
                        now=factories.now() + timedelta(seconds=4))
    graded = quizzes.submit(session, learner, second.id, now=factories.now() + timedelta(seconds=5),
                            settings=None)  # type: ignore[arg-type]
    assert graded.attempt is not None and graded.attempt.percent == 50 and graded.attempt.passed is True
    assert quizzes.attempt_result(session, graded.attempt)["pass_mark"] == 50


def test_a_driver_connection_given_back_idle_is_lent_again_and_no_other(engine: Engine) -> None:
    """The quiz's hot path keeps the driver connection it last gave back instead of checking one
    out of the pool per request (issue 14), on both databases: kept only when idle and its block
    did not raise, never across a fork, closed when the engine is disposed."""
    import os
    import sqlite3

    import psycopg

    with direct.driver(engine) as first:
        kept = first.connection
    with direct.driver(engine) as again:
        assert again.connection is kept  # the one given back
        with direct.driver(engine) as meanwhile:  # lent at the same time: another one
            assert meanwhile.connection is not kept
        kept.execute("BEGIN")  # left in a transaction: not kept, the pool rolls it back
        assert not idle(kept)
    with direct.driver(engine) as after:
        assert after.connection is not kept and idle(after.connection)
        fresh = after.connection
    with pytest.raises(RuntimeError), direct.driver(engine) as failing:
        assert failing.connection is fresh
        raise RuntimeError("a statement failed")
    with direct.driver(engine) as next_one:
        assert next_one.connection is not fresh
        spare = next_one.connection
    child = os.fork()
    if child == 0:  # the parent's connection is never used in a forked child
        with direct.driver(engine) as forked:
            os._exit(0 if forked.connection is not spare else 1)
    assert os.waitpid(child, 0)[1] == 0
    engine.dispose()
    with pytest.raises((sqlite3.ProgrammingError, psycopg.OperationalError)):  # closed with the engine's pool
        spare.execute("SELECT 1")


def test_a_driver_s_statements_stand_alone_until_its_write_transaction(engine: Engine) -> None:
    """Outside :meth:`Driver.writing` each statement on a driver connection is committed by itself
    (on PostgreSQL the connections are in autocommit mode: no BEGIN round trip); inside it the
    block's writes are committed together when it ends and rolled back together when it raises,
    and the connection is idle again either way."""
    from lms.store import User

    learner_ids = []
    with make_sessionmaker(engine)() as session:
        for _ in range(3):
            learner_ids.append(factories.user(session).id)
        session.commit()
    rename = direct.Sql("UPDATE users SET full_name = :name WHERE id = :id")
    with direct.driver(engine) as drv:
        direct.execute(drv, rename, {"name": "Tự lưu", "id": learner_ids[0]})
        assert idle(drv.connection)  # committed already, no transaction left open
        with pytest.raises(RuntimeError), drv.writing():
            direct.execute(drv, rename, {"name": "Bỏ đi", "id": learner_ids[1]})
            raise RuntimeError("grading failed")
        assert idle(drv.connection)
        with drv.writing():
            direct.execute(drv, rename, {"name": "Cùng lưu", "id": learner_ids[1]})
            direct.execute(drv, rename, {"name": "Cùng lưu", "id": learner_ids[2]})
        assert idle(drv.connection)
    with make_sessionmaker(engine)() as session:
        names = [session.get(User, i).full_name for i in learner_ids]  # type: ignore[union-attr]
    assert names[0] == "Tự lưu" and names[1] == names[2] == "Cùng lưu"
