"""The stored records the web layer may name in type annotations and read attributes from.

Views never import ``lms.store`` (an import-linter contract says so): they get these objects
from use cases, and name their types through this module."""

from __future__ import annotations

from lms.store import Attempt, Certificate, Course, Job, Lesson, Quiz, TrainingClass, Unit, User

__all__ = ["Attempt", "Certificate", "Course", "Job", "Lesson", "Quiz", "TrainingClass", "Unit", "User"]
