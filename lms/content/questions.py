"""Questions as read from a file (TOML, GIFT, Moodle XML, Aiken), before they are stored.

Every importer produces these; text is already sanitised HTML. Fractions follow Moodle:
1.0 is full credit, negative values are penalties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lms.content.problems import Problem

__all__ = [
    "MAX_CATEGORY",
    "QUESTION_TYPES",
    "ChoiceDoc",
    "ImportResult",
    "NumericAnswerDoc",
    "PairDoc",
    "QuestionDoc",
    "ShortAnswerDoc",
    "category_problem",
    "nearest_moodle_grade",
    "valid_moodle_fraction",
]

MAX_CATEGORY = 300  # characters: what the questions table holds
QUESTION_TYPES = ("single", "multiple", "true_false", "short_answer", "numeric", "matching", "ordering")

# The grades Moodle offers for an answer (percent). An imported fraction must be one of these
# (or its negative), as Moodle's own importers require: 33% is refused, 33.33333% is fine.
_MOODLE_GRADES = (100, 90, 83.33333, 80, 75, 70, 66.66667, 60, 50, 40, 33.33333, 30, 25, 20, 16.66667,
                  14.28571, 12.5, 11.11111, 10, 5, 0)


def category_problem(name: str) -> str | None:
    """Why ``name`` cannot be a question category, or None."""
    if len(name) > MAX_CATEGORY:
        return f"the category '{name[:40]}...' is longer than {MAX_CATEGORY} characters"
    return None


def valid_moodle_fraction(percent: float) -> bool:
    return any(abs(abs(percent) - g) < 0.0001 for g in _MOODLE_GRADES)


def nearest_moodle_grade(percent: float) -> float:
    """The Moodle grade (percent, with the sign of ``percent``) closest to ``percent``, for messages."""
    best = min(_MOODLE_GRADES, key=lambda g: abs(abs(percent) - g))
    return -best if percent < 0 else best


@dataclass(frozen=True)
class ChoiceDoc:
    html: str
    fraction: float = 0.0
    feedback_html: str = ""


@dataclass(frozen=True)
class ShortAnswerDoc:
    text: str  # plain text as typed; `*` is a wildcard
    fraction: float = 1.0
    feedback_html: str = ""


@dataclass(frozen=True)
class NumericAnswerDoc:
    value: float
    tolerance: float = 0.0
    fraction: float = 1.0
    feedback_html: str = ""


@dataclass(frozen=True)
class PairDoc:
    left_html: str  # empty: a distractor on the right with no left item
    right_html: str


@dataclass(frozen=True)
class QuestionDoc:
    local_id: str
    type: str
    text_html: str
    source: str
    line: int
    points: float = 1.0
    feedback_html: str = ""
    competences: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    category: str = ""
    # single / multiple: choices with fractions; ordering: items in the correct order
    choices: tuple[ChoiceDoc, ...] = ()
    scoring: str = "partial"  # multiple: "partial" or "all_or_nothing"
    # true_false
    answer: bool | None = None
    feedback_true_html: str = ""  # shown when the learner answered true
    feedback_false_html: str = ""
    # short_answer
    answers: tuple[ShortAnswerDoc, ...] = ()
    case_sensitive: bool = False
    accept_without_diacritics: bool = False
    # numeric
    numbers: tuple[NumericAnswerDoc, ...] = ()
    # matching
    pairs: tuple[PairDoc, ...] = ()


@dataclass
class ImportResult:
    """What an importer read: questions, fatal problems, and unsupported questions skipped."""

    questions: list[QuestionDoc] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # nothing may be stored
    skipped: list[Problem] = field(default_factory=list)  # unsupported: reported by name, not imported
    title: str | None = None
