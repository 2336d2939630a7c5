"""The one typed question model: what importers read, what a bank stores and what grading marks.

A question is a tagged union of frozen dataclasses, one per family of types; ``type`` is the tag.
Importers build questions without ids; the codec (:mod:`lms.domain.question_codec`) gives choices,
items and matching sides fresh opaque ids when a bank is stored, and reads them back, with the
question's stored id, from the bank or from an attempt's snapshot. Fractions follow Moodle: 1.0 is
full credit, negative values are penalties. Text is already sanitised HTML, except short answers,
which are plain text as typed (``*`` is a wildcard).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "CHOICE_TYPES",
    "Choice",
    "ChoiceQuestion",
    "MatchingQuestion",
    "NumericAnswer",
    "NumericQuestion",
    "Pair",
    "Question",
    "QuestionType",
    "ShortAnswer",
    "ShortAnswerQuestion",
    "TrueFalseQuestion",
]


class QuestionType(StrEnum):
    """Every question type the LMS stores and grades: the one list of them."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    SHORT_ANSWER = "short_answer"
    NUMERIC = "numeric"
    MATCHING = "matching"
    ORDERING = "ordering"


# Types whose answer is a list of choices (ordering: the items in their correct order).
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.ORDERING})


@dataclass(frozen=True)
class Choice:
    html: str = ""
    fraction: float = 0.0
    feedback_html: str = ""
    id: str = ""  # opaque, given when the bank is stored


@dataclass(frozen=True)
class ShortAnswer:
    text: str  # plain text as typed; `*` is a wildcard
    fraction: float = 1.0
    feedback_html: str = ""


@dataclass(frozen=True)
class NumericAnswer:
    value: float
    tolerance: float = 0.0
    fraction: float = 1.0
    feedback_html: str = ""


@dataclass(frozen=True)
class Pair:
    """A left item and the right item it matches. A pair with no left item (empty ``left_html``
    and ``left_id``) is a distractor: a right item that matches nothing."""

    left_html: str
    right_html: str
    left_id: str = ""
    right_id: str = ""

    @property
    def distractor(self) -> bool:
        return not self.left_html and not self.left_id


@dataclass(frozen=True, kw_only=True)
class _Common:
    """What every question has. ``local_id`` is its id in its file or bank; ``id`` the stored id
    (``<quiz>.<local id>``) that an attempt's responses are keyed by; ``source`` and ``line`` say
    where it was read, for messages."""

    local_id: str = ""
    id: str = ""
    text_html: str = ""
    points: float = 1.0
    feedback_html: str = ""
    competences: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: str = ""
    source: str = ""
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class ChoiceQuestion(_Common):
    """single, multiple, or ordering (``choices`` are then the items in their correct order)."""

    type: QuestionType
    choices: tuple[Choice, ...] = ()
    scoring: str = "partial"  # multiple: "partial" or "all_or_nothing"

    def __post_init__(self) -> None:
        if self.type not in CHOICE_TYPES:
            raise ValueError(f"a choice question cannot be of type {self.type!r}")


@dataclass(frozen=True, kw_only=True)
class TrueFalseQuestion(_Common):
    type: Literal[QuestionType.TRUE_FALSE] = QuestionType.TRUE_FALSE
    answer: bool = False
    feedback_true_html: str = ""  # shown when the learner answered true
    feedback_false_html: str = ""


@dataclass(frozen=True, kw_only=True)
class ShortAnswerQuestion(_Common):
    type: Literal[QuestionType.SHORT_ANSWER] = QuestionType.SHORT_ANSWER
    answers: tuple[ShortAnswer, ...] = ()
    case_sensitive: bool = False
    accept_without_diacritics: bool = False


@dataclass(frozen=True, kw_only=True)
class NumericQuestion(_Common):
    type: Literal[QuestionType.NUMERIC] = QuestionType.NUMERIC
    numbers: tuple[NumericAnswer, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MatchingQuestion(_Common):
    """``pairs`` in the order the right items were written, distractors included."""

    type: Literal[QuestionType.MATCHING] = QuestionType.MATCHING
    pairs: tuple[Pair, ...] = ()

    @property
    def lefts(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if not p.distractor)


Question = ChoiceQuestion | TrueFalseQuestion | ShortAnswerQuestion | NumericQuestion | MatchingQuestion
