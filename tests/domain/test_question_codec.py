"""The question codec: the stored form of every question type, read back into the model.

``stored_questions_before.json`` was written by the mappers the codec replaced (the services'
``question_spec`` and ``_doc_hash``, with ids numbered in the order they were made): a change to
the stored JSON or to the content hash, which existing databases hold, fails here.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from lms.config import PROJECT_ROOT
from lms.content.gift import parse_gift
from lms.content.importers import read_questions
from lms.content.quizzes import check_quizzes
from lms.domain import question_codec as codec
from lms.domain.grading import grade_question
from lms.domain.questions import (
    Choice,
    ChoiceQuestion,
    MatchingQuestion,
    NumericAnswer,
    NumericQuestion,
    Pair,
    Question,
    QuestionType,
    ShortAnswer,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)
from tests.shared_dir import SHARED

BEFORE = json.loads((Path(__file__).parent / "stored_questions_before.json").read_text(encoding="utf-8"))
FIXTURES = SHARED / "fixtures" / "moodle-question-formats"


def _counter() -> Callable[[], str]:
    numbers = itertools.count(1)
    return lambda: f"id{next(numbers)}"


def _recorded_questions() -> list[Question]:
    """The questions the golden file was made from, in the order it was made (the TOML quiz's
    first question, an ordering one, was stored twice: the ids of the second are the ones kept)."""
    docs = read_questions(SHARED / "accept" / "sample_quiz.gift").questions
    quizzes, problems = check_quizzes(PROJECT_ROOT / "quizzes" / "an-toan-so-bai-05.toml")
    assert problems == []
    first = quizzes[0].questions[0]
    assert first.type == "ordering"
    docs += [first, first]
    docs += parse_gift("::pairs-x::Ghép {\n=a -> 1\n= -> 9\n=b -> 2\n}\n", "x.gift").questions
    return docs


def test_stored_spec_and_content_hash_are_the_format_written_before() -> None:
    make_id = _counter()
    written = {}
    for q in _recorded_questions():
        written[q.local_id] = {"type": q.type.value, "hash": codec.content_hash(q), "spec": codec.to_spec(q, make_id)}
    assert list(written) == list(BEFORE)
    for local_id, record in BEFORE.items():
        # the JSON text, not only equal dicts: key order is pinned too
        assert json.dumps(written[local_id], ensure_ascii=False) == json.dumps(record, ensure_ascii=False), local_id
    assert {r["type"] for r in BEFORE.values()} == set(QuestionType)  # every type is pinned


def _all_imported() -> list[Question]:
    """Every question the real fixtures and quiz files hold."""
    out: list[Question] = []
    for path in [SHARED / "accept" / "sample_quiz.gift", *sorted(FIXTURES.glob("*/*"))]:
        out += read_questions(path).questions
    quizzes, _ = check_quizzes(PROJECT_ROOT / "quizzes")
    for quiz in quizzes:
        out += quiz.questions
    return out


def _without_ids(q: Question) -> Question:
    if isinstance(q, ChoiceQuestion):
        return replace(q, id="", choices=tuple(replace(c, id="") for c in q.choices))
    if isinstance(q, MatchingQuestion):
        return replace(q, id="", pairs=tuple(replace(p, left_id="", right_id="") for p in q.pairs))
    return replace(q, id="")


def _read_back(q: Question, spec: codec.QuestionSpec) -> Question:
    return codec.from_spec(q.type, json.loads(json.dumps(spec)), id="quiz." + q.local_id, local_id=q.local_id,
                           text_html=q.text_html, points=q.points, competences=q.competences, tags=q.tags,
                           category=q.category, source=q.source, line=q.line)


def test_every_imported_question_round_trips_through_the_stored_form() -> None:
    questions = _all_imported()
    assert {q.type for q in questions} == set(QuestionType)  # every type is exercised
    for q in questions:
        spec = codec.to_spec(q)
        back = _read_back(q, spec)
        assert type(back) is type(q) and back.id == "quiz." + q.local_id
        assert _without_ids(back) == q, q.local_id
        assert codec.content_hash(back) == codec.content_hash(q)  # ids are not content
        # stored -> model -> stored keeps the ids it was given
        assert codec.to_spec(back, make_id=lambda: pytest.fail("an id was made afresh")) == spec


def test_fresh_ids_are_opaque_and_distinct() -> None:
    q = ChoiceQuestion(type=QuestionType.MULTIPLE, choices=(Choice("a", 1.0), Choice("b")))
    first, second = codec.to_spec(q), codec.to_spec(q)
    ids = [c["id"] for c in first["choices"] + second["choices"]]
    assert len(set(ids)) == 4 and all(len(i) == 10 for i in ids)


HAND_MADE: tuple[Question, ...] = (
    ChoiceQuestion(type=QuestionType.SINGLE, points=2.0, choices=(Choice("<p>a</p>", 1.0, "đúng"), Choice("b"))),
    ChoiceQuestion(type=QuestionType.MULTIPLE, scoring="all_or_nothing",
                   choices=(Choice("a", 0.5), Choice("b", 0.5), Choice("c", -1.0))),
    ChoiceQuestion(type=QuestionType.ORDERING, choices=(Choice("1"), Choice("2"), Choice("3"))),
    TrueFalseQuestion(answer=True, feedback_true_html="yes", feedback_false_html="no"),
    ShortAnswerQuestion(answers=(ShortAnswer("Hà Nội"), ShortAnswer("HN", 0.5, "ngắn")), case_sensitive=True,
                        accept_without_diacritics=True),
    NumericQuestion(numbers=(NumericAnswer(10.0, 0.5), NumericAnswer(9.0, 0.0, 0.5, "gần"))),
    MatchingQuestion(pairs=(Pair("a", "1"), Pair("", "9"), Pair("b", "2"))),
)


@pytest.mark.parametrize("q", HAND_MADE, ids=lambda q: q.type.value)
def test_every_type_round_trips_and_reads_from_an_attempt_snapshot(q: Question) -> None:
    q = replace(q, local_id="x", text_html="<p>Câu hỏi</p>", feedback_html="chung")
    spec = codec.to_spec(q)
    assert _without_ids(_read_back(q, spec)) == q
    snapshot = {"id": "quiz.x", "type": q.type.value, "text_html": q.text_html, "points": q.points, "spec": spec,
                "order": [], "targets": []}
    from_layout = codec.from_snapshot(json.loads(json.dumps(snapshot)))
    assert from_layout.id == "quiz.x" and from_layout.text_html == q.text_html
    assert _without_ids(from_layout) == replace(q, local_id="")  # a snapshot does not hold the local id
    assert grade_question(from_layout, None).max_score == q.points


def test_matching_keeps_distractors_where_they_were_written() -> None:
    q = MatchingQuestion(pairs=(Pair("a", "1"), Pair("", "9"), Pair("b", "2")))
    spec = codec.to_spec(q, _counter())
    assert spec["rights"] == [{"id": "id1", "html": "1"}, {"id": "id3", "html": "9"}, {"id": "id4", "html": "2"}]
    assert spec["pairs"] == [["id2", "id1"], ["id5", "id4"]]
    back = codec.from_spec("matching", spec)
    assert isinstance(back, MatchingQuestion)
    assert [(p.left_id, p.right_id) for p in back.pairs] == [("id2", "id1"), ("", "id3"), ("id5", "id4")]
    assert back.pairs[1].distractor and [p.left_html for p in back.lefts] == ["a", "b"]


def test_an_unknown_stored_type_is_refused() -> None:
    with pytest.raises(ValueError):
        codec.from_spec("essay", {"feedback_html": ""})
    with pytest.raises(ValueError):
        ChoiceQuestion(type=QuestionType.NUMERIC)


def test_the_type_list_is_the_enum() -> None:
    assert [t.value for t in QuestionType] == ["single", "multiple", "true_false", "short_answer", "numeric",
                                               "matching", "ordering"]
    assert QuestionType("true_false") == "true_false"  # stored rows and templates compare with strings
