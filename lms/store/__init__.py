"""The store: SQLAlchemy 2.0 models, engine and session setup, named queries.

Callers own the transaction (``with session.begin():``); nothing here commits.
"""

from lms.store.engine import make_engine, make_sessionmaker, write_intent
from lms.store.models import (
    Agency,
    ApiToken,
    Attempt,
    AttemptAnswer,
    Attendance,
    AuditEvent,
    Base,
    Certificate,
    Course,
    Lesson,
    LessonCompletion,
    Mandate,
    Question,
    Quiz,
    Role,
    TeamMember,
    TrainingClass,
    Unit,
    User,
)

__all__ = [
    "Agency",
    "ApiToken",
    "Attempt",
    "AttemptAnswer",
    "Attendance",
    "AuditEvent",
    "Base",
    "Certificate",
    "Course",
    "Lesson",
    "LessonCompletion",
    "Mandate",
    "Question",
    "Quiz",
    "Role",
    "TeamMember",
    "TrainingClass",
    "Unit",
    "User",
    "make_engine",
    "make_sessionmaker",
    "write_intent",
]
