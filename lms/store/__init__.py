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
    CoOwner,
    Course,
    Job,
    Lesson,
    LessonCompletion,
    LessonVersion,
    Mandate,
    Question,
    Quiz,
    Role,
    TeamMember,
    TrainingClass,
    Unit,
    User,
)
from lms.store.reporting import FigureShare, Plan, PlanIndicator, ReportFigure, UnitPopulation

__all__ = [
    "Agency",
    "ApiToken",
    "Attempt",
    "AttemptAnswer",
    "Attendance",
    "AuditEvent",
    "Base",
    "Certificate",
    "CoOwner",
    "Course",
    "FigureShare",
    "Job",
    "Lesson",
    "LessonCompletion",
    "LessonVersion",
    "Mandate",
    "Plan",
    "PlanIndicator",
    "Question",
    "Quiz",
    "ReportFigure",
    "Role",
    "TeamMember",
    "TrainingClass",
    "Unit",
    "UnitPopulation",
    "User",
    "make_engine",
    "make_sessionmaker",
    "write_intent",
]
