"""Property-based fuzzing of the imports that write: `lms quiz import` (services.quizzes.import_file)
and `lms roster import` (services.roster.import_roster), on the real test database.

Whatever the file, the import either stores it or raises its own error listing problems, each
naming a location, and then nothing at all has been written. A database error (a NUL byte in
PostgreSQL text, a value longer than its column) is a failure: the importer must catch it first.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from lms.content.problems import ContentError
from lms.content.roster import COLUMNS
from lms.services.quizzes import import_file
from lms.services.roster import RosterError, import_roster
from lms.services.unit_of_work import make_sessionmaker
from lms.store import Agency, AuditEvent, Question, Quiz, User
from tests.content.test_importer_fuzz import (
    _AIKEN_TOKENS,
    _GIFT_TOKENS,
    _XML_TOKENS,
    AIKEN_FILES,
    GIFT_FILES,
    ROSTER_PROBLEM,
    XML_FILES,
    assert_problem_line,
    mutated,
)
from tests.factories import now

FUZZ_DB = settings(max_examples=100, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
COURSE = "tri-tue-nhan-tao"
TABLES = (Quiz, Question, User, Agency, AuditEvent)


@contextmanager
def _rolled_back(engine: Engine) -> Iterator[Session]:
    """A session in a transaction that is rolled back afterwards, one per generated example (the
    per-test `session` fixture would carry one example's writes into the next)."""
    with engine.connect() as conn:
        outer = conn.begin()
        session = make_sessionmaker(conn, join_transaction_mode="create_savepoint", expire_on_commit=False)()
        try:
            yield session
        finally:
            session.close()
            outer.rollback()


def _counts(session: Session) -> dict[str, int]:
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES}


@contextmanager
def _file(name: str, data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="lms-fuzz-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        yield path


# ---------------------------------------------------------------------------------------------
# Quiz import


def _quiz_files() -> st.SearchStrategy[tuple[str, bytes]]:
    def text(files: list[Path], tokens: list[str]) -> st.SearchStrategy[str]:
        return st.sampled_from(files).flatmap(lambda f: mutated(f.read_text(encoding="utf-8"), tokens))

    return st.one_of(
        st.tuples(st.just("fuzz.gift"), st.one_of(st.text(), text(GIFT_FILES, _GIFT_TOKENS)).map(str.encode)),
        st.tuples(st.just("fuzz.txt"), text(AIKEN_FILES, _AIKEN_TOKENS).map(str.encode)),
        st.tuples(st.just("fuzz.xml"), text(XML_FILES, _XML_TOKENS).map(str.encode)),
        st.tuples(st.sampled_from(["fuzz.gift", "fuzz.xml"]), st.binary(max_size=300)),
        # Long names, categories and texts that must fit their columns, and a NUL byte.
        st.tuples(st.just("long.gift"), st.sampled_from([
            "$CATEGORY: " + "Chủ đề/" * 60 + "\n\n::q::Câu hỏi {T}",
            "::" + "t" * 400 + "::Câu hỏi {T}",
            "// [tag:" + "x" * 400 + "]\nCâu hỏi {T}",
            "Câu hỏi\x00 {T}",
            "Câu hỏi {=" + "đáp án " * 200 + "}",
        ]).map(str.encode)),
    )


@FUZZ_DB
@given(_quiz_files(), st.sampled_from([None, "gift", "moodle-xml", "aiken"]))
def test_quiz_import_stores_everything_or_nothing(engine: Engine, file: tuple[str, bytes], fmt: str | None) -> None:
    name, data = file
    with _rolled_back(engine) as session, _file(name, data) as path:
        before = _counts(session)
        try:
            quiz_id, count, skipped = import_file(session, path, course_id=COURSE, fmt=fmt, now=now())
        except ContentError as exc:
            assert exc.problems, "a refusal names at least one problem"
            lines = max(1, len(re.split(r"\r\n|\r|\n", data.decode("utf-8", errors="replace"))))
            for p in exc.problems:
                assert_problem_line(p, str(path), lines)
            assert _counts(session) == before, "nothing may be stored when the file has a problem"
            return
        session.flush()
        stored = session.scalar(select(func.count()).select_from(Question).where(Question.quiz_id == quiz_id))
        assert quiz_id.startswith("imp_") and count >= 1 and stored == count
        assert session.get(Quiz, quiz_id) is not None
        for line in skipped:
            assert line.startswith(f"{path}:")


# ---------------------------------------------------------------------------------------------
# Roster import

_NAME = st.one_of(st.sampled_from(["Nguyễn Văn An", "Trần Thị Bích", "", " ", "x" * 201, "\u0958" * 150,
                                   "Lê\u0301 Văn", "Tab\tName", "Võ\x00Sáu", "\x07"]), st.text(max_size=20))
_LOGIN = st.one_of(st.sampled_from(["cb.an@vinhlong.gov.vn", "CB.AN@vinhlong.gov.vn", "0912345678",
                                    "+84 912 345 679", "not a login", "", "a@b", "x" * 250 + "@vinhlong.gov.vn",
                                    "cb\x00@vinhlong.gov.vn"]),
                   st.emails().map(str), st.text(max_size=12))
_UNIT = st.sampled_from(["28756", "29143", "25195", "12345", "", "86", " 28756 ", "28756\x00"])
_AGENCY = st.one_of(st.sampled_from(["UBND Phường Phú Khương", "UBND Xã An Ngãi Trung", "", "a" * 201,
                                     "\u0958" * 120, "Sở\x00 Nội vụ"]), st.text(max_size=12))
_POSITION = st.one_of(st.sampled_from(["Công chức", "", "p" * 201, "\u0958" * 150]), st.text(max_size=12))
_ROW = st.tuples(_NAME, _LOGIN, _UNIT, _AGENCY, _POSITION).map(list)


def _roster_csv(header: list[str], rows: list[list[str]], newline: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=newline).writerows([header, *rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _roster_xlsx(header: list[str], rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(header)
    for row in rows:
        book.active.append([openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_HEADER = st.one_of(st.just(list(COLUMNS)), st.permutations(list(COLUMNS)).map(list),
                    st.lists(st.sampled_from([*COLUMNS, "email", ""]), max_size=6))
_ROSTER = st.one_of(
    st.tuples(st.just("roster.csv"), st.builds(_roster_csv, _HEADER, st.lists(_ROW, max_size=5),
                                               st.sampled_from(["\n", "\r\n"]))),
    st.tuples(st.just("roster.xlsx"), st.builds(_roster_xlsx, _HEADER, st.lists(_ROW, max_size=4))),
    st.tuples(st.sampled_from(["roster.csv", "roster.xlsx"]), st.binary(max_size=200)),
)


@FUZZ_DB
@given(_ROSTER)
def test_roster_import_stores_everything_or_nothing(engine: Engine, file: tuple[str, bytes]) -> None:
    name, data = file
    with _rolled_back(engine) as session, _file(name, data) as path:
        before = _counts(session)
        try:
            result = import_roster(session, path, now=now())
        except RosterError as exc:
            assert exc.problems
            for line in exc.problems:
                m = ROSTER_PROBLEM.match(line)
                assert m and m.group("file") == str(path) and int(m.group("row")) >= 1, line
            assert _counts(session) == before, "nothing may be stored when a row has a problem"
            return
        session.flush()
        after = _counts(session)
        assert after["users"] == before["users"] + result.created
        assert result.created + result.updated + result.unchanged >= 0
        again = import_roster(session, path, now=now())  # importing the same file again changes nothing
        assert (again.created, again.updated) == (0, 0)
