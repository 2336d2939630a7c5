"""The one codec between the question model and its stored JSON.

A bank row keeps a question's ``spec`` (what grading and presentation need, with opaque ids for
choices and items) beside its type, text and points; an attempt's layout keeps a snapshot of each
question drawn (the row's fields, its spec, and the order things were shown in). Existing
databases and migrations hold both, so the FORMAT IS FIXED: ``tests/domain/test_question_codec.py``
compares it with the format written before this module existed. Untyped JSON (``Any``) stops here.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import Any, NotRequired, TypedDict

from lms.domain.questions import (
    CHOICE_TYPES,
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

__all__ = [
    "ChoiceSpec",
    "ItemSpec",
    "NumericSpec",
    "QuestionSpec",
    "ShortAnswerSpec",
    "Snapshot",
    "content_hash",
    "from_snapshot",
    "from_spec",
    "new_id",
    "to_spec",
]


class ChoiceSpec(TypedDict):
    id: str
    html: str
    fraction: float
    feedback_html: str


class ItemSpec(TypedDict):
    id: str
    html: str


class ShortAnswerSpec(TypedDict):
    text: str
    fraction: float
    feedback_html: str


class NumericSpec(TypedDict):
    value: float
    tolerance: float
    fraction: float
    feedback_html: str


class QuestionSpec(TypedDict):
    """A bank row's ``spec`` column; which keys are present depends on the type."""

    feedback_html: str
    choices: NotRequired[list[ChoiceSpec]]  # single, multiple, ordering
    scoring: NotRequired[str]
    answer: NotRequired[bool]  # true_false
    feedback_true_html: NotRequired[str]
    feedback_false_html: NotRequired[str]
    answers: NotRequired[list[ShortAnswerSpec]]  # short_answer
    case_sensitive: NotRequired[bool]
    accept_without_diacritics: NotRequired[bool]
    numbers: NotRequired[list[NumericSpec]]  # numeric
    lefts: NotRequired[list[ItemSpec]]  # matching
    rights: NotRequired[list[ItemSpec]]  # matching, distractors included, in the order written
    pairs: NotRequired[list[list[str]]]  # matching: [left id, right id]


class Snapshot(TypedDict):
    """One question of an attempt's layout, as drawn when the attempt started."""

    id: str
    type: str
    text_html: str
    points: float
    spec: QuestionSpec
    order: list[str]  # choice (or matching left) ids in the order shown
    targets: list[str]  # matching: right ids in the order shown


def new_id() -> str:
    """A fresh opaque id for a choice or an item."""
    return secrets.token_hex(5)


def to_spec(q: Question, make_id: Callable[[], str] = new_id) -> QuestionSpec:
    """The stored spec of ``q``. Choices and items that have no id yet (every question an
    importer reads) get one from ``make_id``; ids already given are kept."""
    spec: QuestionSpec = {"feedback_html": q.feedback_html}
    if isinstance(q, ChoiceQuestion):
        spec["choices"] = [{"id": c.id or make_id(), "html": c.html, "fraction": c.fraction,
                            "feedback_html": c.feedback_html} for c in q.choices]
        spec["scoring"] = q.scoring
    elif isinstance(q, TrueFalseQuestion):
        spec["answer"] = bool(q.answer)
        spec["feedback_true_html"] = q.feedback_true_html
        spec["feedback_false_html"] = q.feedback_false_html
    elif isinstance(q, ShortAnswerQuestion):
        spec["answers"] = [{"text": a.text, "fraction": a.fraction, "feedback_html": a.feedback_html}
                           for a in q.answers]
        spec["case_sensitive"] = q.case_sensitive
        spec["accept_without_diacritics"] = q.accept_without_diacritics
    elif isinstance(q, NumericQuestion):
        spec["numbers"] = [{"value": n.value, "tolerance": n.tolerance, "fraction": n.fraction,
                            "feedback_html": n.feedback_html} for n in q.numbers]
    else:
        lefts: list[ItemSpec] = []
        rights: list[ItemSpec] = []
        pairs: list[list[str]] = []
        for pair in q.pairs:
            right: ItemSpec = {"id": pair.right_id or make_id(), "html": pair.right_html}
            rights.append(right)
            if not pair.distractor:
                left: ItemSpec = {"id": pair.left_id or make_id(), "html": pair.left_html}
                lefts.append(left)
                pairs.append([left["id"], right["id"]])
        spec["lefts"], spec["rights"], spec["pairs"] = lefts, rights, pairs
    return spec


def from_spec(qtype: str, spec: Mapping[str, Any], *, id: str = "", local_id: str = "",
              text_html: str = "", points: float = 1.0, competences: tuple[str, ...] = (),
              tags: tuple[str, ...] = (), category: str = "", source: str = "", line: int = 0) -> Question:
    """The question a stored ``spec`` of type ``qtype`` describes, ids included. The remaining
    arguments are the row's own columns. Raises ValueError for a type the LMS does not know."""
    kind = QuestionType(qtype)
    common: dict[str, Any] = {"id": id, "local_id": local_id, "text_html": text_html, "points": float(points),
                              "feedback_html": str(spec.get("feedback_html", "")), "competences": competences,
                              "tags": tags, "category": category, "source": source, "line": line}
    if kind in CHOICE_TYPES:
        choices = tuple(Choice(str(c.get("html", "")), float(c.get("fraction", 0)), str(c.get("feedback_html", "")),
                               str(c["id"])) for c in spec.get("choices", []))
        return ChoiceQuestion(type=kind, choices=choices, scoring=str(spec.get("scoring", "partial")), **common)
    if kind is QuestionType.TRUE_FALSE:
        return TrueFalseQuestion(answer=bool(spec.get("answer")),
                                 feedback_true_html=str(spec.get("feedback_true_html", "")),
                                 feedback_false_html=str(spec.get("feedback_false_html", "")), **common)
    if kind is QuestionType.SHORT_ANSWER:
        answers = tuple(ShortAnswer(str(a["text"]), float(a["fraction"]), str(a.get("feedback_html", "")))
                        for a in spec.get("answers", []))
        return ShortAnswerQuestion(answers=answers, case_sensitive=bool(spec.get("case_sensitive")),
                                   accept_without_diacritics=bool(spec.get("accept_without_diacritics")), **common)
    if kind is QuestionType.NUMERIC:
        numbers = tuple(NumericAnswer(float(n["value"]), float(n["tolerance"]), float(n["fraction"]),
                                      str(n.get("feedback_html", ""))) for n in spec.get("numbers", []))
        return NumericQuestion(numbers=numbers, **common)
    lefts = {str(x["id"]): str(x["html"]) for x in spec.get("lefts", [])}
    left_of = {str(right): str(left) for left, right in spec.get("pairs", [])}
    pairs = []
    for right in spec.get("rights", []):
        rid = str(right["id"])
        lid = left_of.get(rid, "")
        pairs.append(Pair(lefts.get(lid, ""), str(right["html"]), lid, rid))
    return MatchingQuestion(pairs=tuple(pairs), **common)


def from_snapshot(snapshot: Mapping[str, Any]) -> Question:
    """The question an attempt's layout holds, keyed by its stored id."""
    return from_spec(str(snapshot["type"]), snapshot["spec"], id=str(snapshot["id"]),
                     text_html=str(snapshot.get("text_html", "")), points=float(snapshot["points"]))


def content_hash(q: Question) -> str:
    """What a bank row's ``content_hash`` holds: a digest of everything an author wrote (not of
    ids, nor of where it was read). A question whose hash is unchanged keeps its stored spec, and
    so its choice ids, when its file is read again. The digest is over the flat record questions
    had before this model (every field, defaults for the other types'), so that banks stored then
    are recognised as unchanged."""
    choices = q.choices if isinstance(q, ChoiceQuestion) else ()
    answers = q.answers if isinstance(q, ShortAnswerQuestion) else ()
    numbers = q.numbers if isinstance(q, NumericQuestion) else ()
    pairs = q.pairs if isinstance(q, MatchingQuestion) else ()
    record: dict[str, object] = {
        "local_id": q.local_id, "type": q.type.value, "text_html": q.text_html, "points": q.points,
        "feedback_html": q.feedback_html, "competences": q.competences, "tags": q.tags, "category": q.category,
        "choices": tuple({"html": c.html, "fraction": c.fraction, "feedback_html": c.feedback_html} for c in choices),
        "scoring": q.scoring if isinstance(q, ChoiceQuestion) else "partial",
        "answer": q.answer if isinstance(q, TrueFalseQuestion) else None,
        "feedback_true_html": q.feedback_true_html if isinstance(q, TrueFalseQuestion) else "",
        "feedback_false_html": q.feedback_false_html if isinstance(q, TrueFalseQuestion) else "",
        "answers": tuple({"text": a.text, "fraction": a.fraction, "feedback_html": a.feedback_html} for a in answers),
        "case_sensitive": q.case_sensitive if isinstance(q, ShortAnswerQuestion) else False,
        "accept_without_diacritics": q.accept_without_diacritics if isinstance(q, ShortAnswerQuestion) else False,
        "numbers": tuple({"value": n.value, "tolerance": n.tolerance, "fraction": n.fraction,
                          "feedback_html": n.feedback_html} for n in numbers),
        "pairs": tuple({"left_html": p.left_html, "right_html": p.right_html} for p in pairs),
    }
    return hashlib.sha256(repr(sorted(record.items())).encode("utf-8")).hexdigest()
