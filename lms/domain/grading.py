"""Grading: pure and typed. A response is what API.md describes per question type; a question
is graded against the snapshot taken when the attempt started.

Invariants (property-tested): a question's score lies in [0, points] (or [-points, points] when
the quiz allows negative totals), it does not depend on the order choices were shown in, and a
malformed response earns 0 rather than raising.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from lms.domain.questions import (
    ChoiceQuestion,
    MatchingQuestion,
    NumericAnswer,
    NumericQuestion,
    Question,
    QuestionType,
    ShortAnswer,
    ShortAnswerQuestion,
    TrueFalseQuestion,
)
from lms.domain.text import fold

__all__ = [
    "AttemptResult",
    "QuestionResult",
    "grade_attempt",
    "grade_question",
    "response_problem",
]

MAX_TEXT = 1000


@dataclass(frozen=True)
class QuestionResult:
    question_id: str
    score: float
    max_score: float
    correct: bool
    feedback_html: tuple[str, ...] = ()


@dataclass(frozen=True)
class AttemptResult:
    score: float
    max_score: float
    percent: float
    passed: bool
    questions: tuple[QuestionResult, ...] = field(default_factory=tuple)


def _is_number(value: object) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer too large for a float (JSON allows 1000...0 of any length)
        return False


def response_problem(q: Question, response: object) -> str | None:
    """Why ``response`` is not a well-formed answer to ``q`` (a message key), or None.
    ``None`` as a response clears the answer and is always well-formed."""
    if response is None:
        return None
    if isinstance(q, ChoiceQuestion):
        ids = {c.id for c in q.choices}
        if q.type is QuestionType.SINGLE:
            return None if isinstance(response, str) and response in ids else "response.unknown_choice"
        if q.type is QuestionType.MULTIPLE:
            if not isinstance(response, list) or not all(isinstance(r, str) and r in ids for r in response):
                return "response.unknown_choice"
            return None if len(set(response)) == len(response) else "response.unknown_choice"
        ok = isinstance(response, list) and sorted(map(str, response)) == sorted(ids) and \
            all(isinstance(r, str) for r in response)
        return None if ok else "response.ordering"
    if isinstance(q, TrueFalseQuestion):
        return None if isinstance(response, bool) else "response.boolean"
    if isinstance(q, ShortAnswerQuestion):
        return None if isinstance(response, str) and len(response) <= MAX_TEXT else "response.text"
    if isinstance(q, NumericQuestion):
        if _is_number(response):
            return None
        if isinstance(response, str) and _parse_number(response) is not None:
            return None
        return "response.number"
    if isinstance(q, MatchingQuestion):
        if not isinstance(response, dict):
            return "response.matching"
        lefts = {p.left_id for p in q.lefts}
        rights = {p.right_id for p in q.pairs}
        ok = all(isinstance(k, str) and k in lefts and isinstance(v, str) and v in rights for k, v in response.items())
        return None if ok else "response.matching"
    return "response.unsupported"


def _parse_number(text: str) -> float | None:
    cleaned = text.strip().replace(" ", "")
    if re.fullmatch(r"[+-]?\d{1,3}(\.\d{3})+", cleaned):  # Vietnamese thousands: 10.000
        cleaned = cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


_TRAILING_PUNCTUATION = ".,!? "


def _short_answer_key(text: str, *, case: bool, diacritics: bool) -> str:
    """What a short answer is compared by (API.md): NFC, spaces collapsed, case folded unless the
    question says case matters, and trailing `.`, `,`, `!`, `?` dropped, since a learner who ends
    "OTP." with a full stop has typed the right answer. An answer of punctuation only is kept."""
    folded = fold(text, case=case, diacritics=diacritics)
    return folded.rstrip(_TRAILING_PUNCTUATION) or folded


def _wildcard_match(pattern: str, text: str) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, text, flags=re.DOTALL) is not None


def _clamp(value: float, allow_negative: bool) -> float:
    return max(-1.0 if allow_negative else 0.0, min(1.0, value))


def _fraction(q: Question, response: object, allow_negative: bool) -> tuple[float, list[str]]:
    """The share of the question's points earned, in [0, 1] (or [-1, 1]), and feedback to show."""
    if response is None or response_problem(q, response) is not None:
        return 0.0, []
    if isinstance(q, ChoiceQuestion):
        return _choice_fraction(q, response, allow_negative)
    if isinstance(q, TrueFalseQuestion):
        fb = q.feedback_true_html if response is True else q.feedback_false_html
        return (1.0 if response == q.answer else 0.0), [fb] if fb else []
    if isinstance(q, ShortAnswerQuestion):
        text = str(response)
        best: ShortAnswer | None = None
        for ans in q.answers:
            for fold_marks in (False, True) if q.accept_without_diacritics else (False,):
                typed = _short_answer_key(text, case=not q.case_sensitive, diacritics=fold_marks)
                wanted = _short_answer_key(ans.text, case=not q.case_sensitive, diacritics=fold_marks)
                if _wildcard_match(wanted, typed) and (best is None or ans.fraction > best.fraction):
                    best = ans
        if best is None:
            return 0.0, []
        return _clamp(best.fraction, allow_negative), [best.feedback_html] if best.feedback_html else []
    if isinstance(q, NumericQuestion):
        value = float(response) if isinstance(response, int | float) else _parse_number(str(response))
        best_n: NumericAnswer | None = None
        for num in q.numbers:
            if value is not None and abs(value - num.value) <= num.tolerance + 1e-9 * max(1.0, abs(num.value)):
                if best_n is None or num.fraction > best_n.fraction:
                    best_n = num
        if best_n is None:
            return 0.0, []
        return _clamp(best_n.fraction, allow_negative), [best_n.feedback_html] if best_n.feedback_html else []
    correct_pairs = q.lefts
    if not correct_pairs:
        return 0.0, []
    assert isinstance(response, dict)
    matched = sum(1 for p in correct_pairs if response.get(p.left_id) == p.right_id)
    return matched / len(correct_pairs), []


def _choice_fraction(q: ChoiceQuestion, response: object, allow_negative: bool) -> tuple[float, list[str]]:
    by_id = {c.id: c for c in q.choices}
    if q.type is QuestionType.SINGLE:
        choice = by_id[str(response)]
        return _clamp(choice.fraction, allow_negative), [choice.feedback_html] if choice.feedback_html else []
    assert isinstance(response, list)
    if q.type is QuestionType.MULTIPLE:
        chosen = [by_id[r] for r in response]
        feedback = [c.feedback_html for c in chosen if c.feedback_html]
        if q.scoring == "all_or_nothing":
            right = {c.id for c in q.choices if c.fraction > 0}
            return (1.0 if {c.id for c in chosen} == right else 0.0), feedback
        return _clamp(sum(c.fraction for c in chosen), allow_negative), feedback
    correct = [c.id for c in q.choices]  # ordering: the items in their correct order
    if not correct:
        return 0.0, []
    return sum(1 for a, b in zip(response, correct, strict=True) if a == b) / len(correct), []


def grade_question(q: Question, response: object, *, allow_negative: bool = False) -> QuestionResult:
    fraction, feedback = _fraction(q, response, allow_negative)
    score = round(fraction * q.points, 6)
    if q.feedback_html:
        feedback.append(q.feedback_html)
    return QuestionResult(q.id, score, q.points, math.isclose(score, q.points, abs_tol=1e-9) and q.points > 0,
                          tuple(feedback))


def grade_attempt(questions: Sequence[Question], responses: Mapping[str, object], *, pass_mark: float,
                  allow_negative: bool = False) -> AttemptResult:
    """Grade every question; a negative total is raised to 0 unless the quiz allows it.
    ``pass_mark`` is a percentage of the maximum score."""
    results = tuple(grade_question(q, responses.get(q.id), allow_negative=allow_negative) for q in questions)
    max_score = round(sum(r.max_score for r in results), 6)
    score = round(sum(r.score for r in results), 6)
    if not allow_negative:
        score = max(0.0, score)
    percent = round(100.0 * score / max_score, 2) if max_score > 0 else 0.0
    return AttemptResult(score, max_score, percent, max_score > 0 and percent + 1e-9 >= pass_mark, results)
