"""The stored records the web layer may name in type annotations and read attributes from.

Views never import ``lms.store`` (an import-linter contract says so): they get these objects
from use cases, and name their types through this module."""

from __future__ import annotations

from lms.store import (
    Attempt,
    AttemptStatus,
    Certificate,
    Course,
    Job,
    JobKind,
    JobStatus,
    Lesson,
    PdfStatus,
    Quiz,
    QuizKind,
    Role,
    TrainingClass,
    Unit,
    UnitLevel,
    User,
)

__all__ = ["Attempt", "AttemptStatus", "Certificate", "Course", "Job", "JobKind", "JobStatus", "Lesson", "PdfStatus",
           "Quiz", "QuizKind", "Role", "TrainingClass", "Unit", "UnitLevel", "User"]
