"""What the importers (TOML, GIFT, Moodle XML, Aiken) share: their result, and the checks of
categories and Moodle grades. The questions they read are the domain's model
(:mod:`lms.domain.questions`); text is already sanitised HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lms.content.problems import Problem
from lms.domain.questions import Question

__all__ = [
    "MAX_CATEGORY",
    "ImportResult",
    "category_problem",
    "nearest_moodle_grade",
    "valid_moodle_fraction",
]

MAX_CATEGORY = 300  # characters: what the questions table holds

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


@dataclass
class ImportResult:
    """What an importer read: questions, fatal problems, and unsupported questions skipped."""

    questions: list[Question] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # nothing may be stored
    skipped: list[Problem] = field(default_factory=list)  # unsupported: reported by name, not imported
    title: str | None = None
