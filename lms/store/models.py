"""Typed SQLAlchemy 2.0 models. Times are stored in UTC."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Agency",
    "ApiToken",
    "Attempt",
    "AttemptAnswer",
    "AttemptStatus",
    "Attendance",
    "AuditEvent",
    "Base",
    "Certificate",
    "Course",
    "Identity",
    "Job",
    "JobKind",
    "JobStatus",
    "Lesson",
    "LessonCompletion",
    "LessonVersion",
    "LoginFailure",
    "Mandate",
    "PasswordSetupCode",
    "PdfStatus",
    "Question",
    "Quiz",
    "QuizKind",
    "Role",
    "TeamMember",
    "TrainingClass",
    "Unit",
    "UnitLevel",
    "User",
    "WebSession",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


# The closed sets of values some String columns hold. StrEnums: a member equals the string stored
# (``Role.ADMIN == "admin"``), so rows read back as plain strings compare as before, and no
# migration is needed. Who may do what with a role is lms.services.access's, not the enum's.
class Role(enum.StrEnum):
    """User.role (and Mandate.role, the learner group of a figure)."""

    CITIZEN = "citizen"
    OFFICIAL = "official"
    TRAINER = "trainer"
    MANAGER = "manager"
    ADMIN = "admin"


class UnitLevel(enum.StrEnum):
    """Unit.level."""

    PROVINCE = "province"
    COMMUNE = "commune"


class QuizKind(enum.StrEnum):
    """Quiz.kind: a lesson's check, practice, or the course's final assessment."""

    LESSON = "lesson"
    PRACTICE = "practice"
    FINAL = "final"


class AttemptStatus(enum.StrEnum):
    """Attempt.status."""

    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class PdfStatus(enum.StrEnum):
    """Certificate.pdf_status: the PDF is made after the certificate's transaction commits."""

    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"


class JobStatus(enum.StrEnum):
    """Job.status."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(enum.StrEnum):
    """Job.kind: what a job does (lms.services.job_runner runs each)."""

    QUIZ_IMPORT = "quiz_import"
    REPORT_EXPORT = "report_export"
    CERTIFICATES_REGENERATE = "certificates_regenerate"
    ROSTER_IMPORT = "roster_import"


class Unit(Base):
    """An administrative unit: one of the 34 provinces or 3,321 communes (NSO codes)."""

    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(10))  # UnitLevel
    kind: Mapped[str] = mapped_column(String(40))  # xã, phường, đặc khu, tỉnh, thành phố trung ương
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)


class Agency(Base):
    """A body (cơ quan, đơn vị) that belongs to a unit and has officials on its roster."""

    __tablename__ = "agencies"
    __table_args__ = (UniqueConstraint("unit_code", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), index=True)  # Role
    birth_year: Mapped[int | None] = mapped_column(Integer)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    position: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on a password change: sessions and tokens issued before are no longer valid.
    credentials_version: Mapped[int] = mapped_column(Integer, default=1)
    consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit | None] = relationship(lazy="joined")
    agency: Mapped[Agency | None] = relationship()


class ApiToken(Base):
    """A bearer token for the API. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    credentials_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class Identity(Base):
    """An outside identity (an OpenID Connect provider's or an LTI platform's issuer and subject)
    linked to one account. Both sign-in protocols share it; an account may hold several."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # "oidc" or "lti": which protocol vouched for it (the issuer alone may serve both).
    protocol: Mapped[str] = mapped_column(String(8))
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    summary_en: Mapped[str] = mapped_column(Text)
    audience: Mapped[list[str]] = mapped_column(JSON)
    competences: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[str] = mapped_column(String(32))
    sequential: Mapped[bool] = mapped_column(Boolean, default=False)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    mandated: Mapped[bool] = mapped_column(Boolean, default=False)
    certificate_validity: Mapped[str] = mapped_column(String(20), default="none")
    final_quiz_id: Mapped[str | None] = mapped_column(String(80))
    lesson_count: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    lessons: Mapped[list[Lesson]] = relationship(order_by="Lesson.position", back_populates="course")


class Lesson(Base):
    __tablename__ = "lessons"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    competences: Mapped[list[str]] = mapped_column(JSON)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    html: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the lesson file as last synced; a browser edit leaves it alone, so that sync can
    # tell whether the file changed since (docs/content-format.md, "Editing in the browser").
    content_hash: Mapped[str] = mapped_column(String(64))
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    # The Markdown body (without front matter) that ``html`` was rendered from.
    markdown: Mapped[str] = mapped_column(Text, default="", server_default="")
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[datetime | None]
    # Set when the text in use was published in the browser; cleared when the file wins again.
    edited_at: Mapped[datetime | None]

    course: Mapped[Course] = relationship(back_populates="lessons")


class LessonVersion(Base):
    """Every published text of a lesson, from its file or from the browser editor."""

    __tablename__ = "lesson_versions"
    __table_args__ = (UniqueConstraint("lesson_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(10))  # file | browser
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254))  # login at the time, or the file name
    created_at: Mapped[datetime]


class LessonCompletion(Base):
    __tablename__ = "lesson_completions"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        Index("ix_lesson_completions_user_course", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.id"))
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    completed_at: Mapped[datetime] = mapped_column(default=utcnow)


class Quiz(Base):
    __tablename__ = "quizzes"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16))  # QuizKind
    lesson_id: Mapped[str | None] = mapped_column(String(80))
    pass_mark: Mapped[float] = mapped_column(Float, default=70.0)
    time_limit_minutes: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=0)
    cooldown_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # max_attempts counts attempts started in this many hours (0: in a lifetime); finals only
    attempt_window_hours: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    shuffle_questions: Mapped[bool] = mapped_column(Boolean, default=True)
    shuffle_choices: Mapped[bool] = mapped_column(Boolean, default=True)
    review: Mapped[str] = mapped_column(String(16), default="feedback")
    draw_count: Mapped[int | None] = mapped_column(Integer)
    draw_rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20))  # toml | gift | moodle-xml | aiken | editor
    content_hash: Mapped[str] = mapped_column(String(64))
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Question(Base):
    """A question of a quiz's bank. ``spec`` holds everything grading needs, with opaque ids
    for choices so that ids reveal nothing about the right answer."""

    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("quiz_id", "local_id"),)

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id"), index=True)
    local_id: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(16))
    text_html: Mapped[str] = mapped_column(Text)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    competences: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str] = mapped_column(String(300), default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Attempt(Base):
    """One learner's attempt at a quiz. At most one is in progress per learner and quiz (a
    partial unique index); the move to "submitted" is a single conditional update, so an
    attempt is graded once however many submissions race."""

    __tablename__ = "attempts"
    __table_args__ = (
        Index("uq_attempts_one_open", "user_id", "quiz_id", unique=True,
              sqlite_where=text("status = 'in_progress'"), postgresql_where=text("status = 'in_progress'")),
        Index("ix_attempts_quiz_status", "quiz_id", "status"),
        Index("ix_attempts_user_quiz_status", "user_id", "quiz_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    quiz_id: Mapped[str] = mapped_column(ForeignKey("quizzes.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # AttemptStatus
    started_at: Mapped[datetime]
    deadline_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    finished_by: Mapped[str | None] = mapped_column(String(12))  # learner | deadline
    layout: Mapped[list[Any]] = mapped_column(JSON)
    score: Mapped[float | None] = mapped_column(Float)
    max_score: Mapped[float | None] = mapped_column(Float)
    percent: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AttemptAnswer(Base):
    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(160))
    response: Mapped[Any] = mapped_column(JSON)
    saved_at: Mapped[datetime]


class Certificate(Base):
    """A certificate as issued: the holder's name and the course version are copied at issue
    time, so a later rename or course update does not change what was certified."""

    __tablename__ = "certificates"
    __table_args__ = (Index("ix_certificates_user_course", "user_id", "course_id"),
                      Index("ix_certificates_unit_course", "unit_code", "course_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    course_title: Mapped[str] = mapped_column(String(200))
    course_version: Mapped[str] = mapped_column(String(32))
    competences: Mapped[list[str]] = mapped_column(JSON, default=list)
    holder_name: Mapped[str] = mapped_column(String(200))
    unit_code: Mapped[str | None] = mapped_column(String(5))
    issuer_name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # online | in_person
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    pdf_status: Mapped[str] = mapped_column(String(12), default=PdfStatus.PENDING.value)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class Mandate(Base):
    """A course officials must complete by a due date, assigned by a manager to a unit (with its
    communes) or to one agency. It recurs every training year when ``recurring``."""

    __tablename__ = "mandates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    role: Mapped[str] = mapped_column(String(16), default=Role.OFFICIAL.value)
    due_month: Mapped[int] = mapped_column(Integer)
    due_day: Mapped[int] = mapped_column(Integer)
    first_year: Mapped[int] = mapped_column(Integer)
    recurring: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingClass(Base):
    """An in-person class ("lớp tập huấn") a trainer held."""

    __tablename__ = "training_classes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    held_on: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id"))
    trainer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("class_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    passed: Mapped[bool | None] = mapped_column(Boolean)  # the paper test, when there was one
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    # the paper test as evidence: its score (percent), who wrote it down, and the second person
    # who confirmed a pass that has no score at or above the pass mark
    score: Mapped[float | None] = mapped_column(Float)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None]


class TeamMember(Base):
    """A member of a commune's community digital-technology team ("tổ công nghệ số cộng đồng")."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("commune_code", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    commune_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what, when, from where: grade changes, certificates, role changes, imports."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(254))  # login at the time, or "cli"
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(160))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(64))  # client address, or "cli"


class Job(Base):
    """Long work a user can leave and come back to (an import, an export, a bulk PDF run).
    Progress is committed as it goes, so the job page shows it and a restarted worker picks the
    work up where it stopped; ``updated_at`` doubles as the heartbeat that tells a dead run."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_owner_created", "owner_id", "created_at"),
                      Index("ix_jobs_status_updated", "status", "updated_at"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # unguessable: it is in URLs
    kind: Mapped[str] = mapped_column(String(40))  # JobKind
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))  # None: from the CLI
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.QUEUED.value)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)  # an uploaded input file
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # what it made: ids, counts, a file name
    output: Mapped[bytes | None] = mapped_column(LargeBinary)  # a file kept for download
    runs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- authoring rights (issue 13: who owns a course or a quiz besides its owner) ---
class CoOwner(Base):
    """A person who may change a course's lessons or a quiz's bank besides its owner."""

    __tablename__ = "co_owners"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_type: Mapped[str] = mapped_column(String(8))  # course | quiz
    object_id: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime]
# --- Accounts hardening (issue 13, items 4-5): server-side sign-in sessions, the failure
# counter behind sign-in throttling, and one-time codes for a first password.


class WebSession(Base):
    """A signed-in browser session. The cookie carries a random id; only its SHA-256 is stored
    (as the primary key, so the per-request check is one read by key). Signing out deletes the
    row, so a cookie copied before sign-out is refused. Anonymous visitors have no row."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credentials_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class LoginFailure(Base):
    """One failed password check for a login, kept for the throttling window only. ``key`` is a
    SHA-256 of the normalised login, so the table never holds what someone typed."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]


class PasswordSetupCode(Base):
    """A one-time code a manager hands an official imported from a roster, to set a first
    password. Only its SHA-256 is stored; it expires, and works once."""

    __tablename__ = "password_setup_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
# --- LTI 1.3 tool (issue 17): platforms that launch the LMS, the tool's own keys, launch states,
# the line items a launch handed over, and the scores waiting to be sent to them.


class LtiPlatform(Base):
    """A platform (Moodle, Canvas, Open edX) registered to launch the LMS: by `lms lti platforms
    add` or by LTI Dynamic Registration."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    keyset_url: Mapped[str] = mapped_column(String(1000))
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LtiKey(Base):
    """One of the tool's RSA key pairs. A new key is published in /lti/jwks from its creation but
    signs only from ``signs_from``; a retired key stays published a while after ``signs_until``
    so that what it signed can still be checked."""

    __tablename__ = "lti_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    signs_from: Mapped[datetime]
    signs_until: Mapped[datetime | None]


class LtiLaunchState(Base):
    """The ``state`` and ``nonce`` of one third-party login, used by at most one launch (the
    conditional update on ``used_at`` decides between racing workers)."""

    __tablename__ = "lti_launch_states"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    browser_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the state cookie
    created_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


class LtiGradeLink(Base):
    """A quiz opened from a launch that carried an AGS line item: its grading is sent there."""

    __tablename__ = "lti_grade_links"
    __table_args__ = (UniqueConstraint("user_id", "quiz_id", "lineitem"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quiz_id: Mapped[str] = mapped_column(String(100), index=True)
    lineitem: Mapped[str] = mapped_column(String(1000))
    subject: Mapped[str] = mapped_column(String(255))  # the platform's user id (``sub``)
    launched_at: Mapped[datetime]


class LtiScore(Base):
    """A score waiting for (or already taken by) a platform's line item: one row per grading and
    line item, written in the grading's transaction, so it is sent once and never lost."""

    __tablename__ = "lti_scores"
    __table_args__ = (UniqueConstraint("attempt_id", "link_id"),
                      Index("ix_lti_scores_status_due", "status", "next_try_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attempt_id: Mapped[str] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_grade_links.id", ondelete="CASCADE"))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | sending | sent
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class LtiContext(Base):
    """A platform's course (LTI context) seen in a launch, with its Names and Role Provisioning
    service URL, so that `lms lti roster-sync` can read its members later."""

    __tablename__ = "lti_contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(300), default="")
    memberships_url: Mapped[str | None] = mapped_column(String(1000))
    updated_at: Mapped[datetime]


# Single sign-on (OpenID Connect): a manager's rule that officials of a unit sign in only
# through the identity provider.
class SsoUnitPolicy(Base):
    """Officials whose unit (or a unit above it) has ``officials_sso_only`` cannot use a password."""

    __tablename__ = "sso_unit_policies"

    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code", ondelete="CASCADE"), primary_key=True)
    officials_sso_only: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime]


# ------------------------------------------------------------ learning records (xAPI outbox)
class XapiStatement(Base):
    """An xAPI statement waiting for (or already given to) the LRS: the transactional outbox.

    Written in the transaction of the event it records, with its id and timestamp fixed in
    ``body`` (the exact JSON sent), so a retry sends the same bytes and the LRS, which keys
    statements by id, never stores one twice. Senders take rows by ``seq`` (keyset pages) and
    hold them for a short lease (``claimed_until``), so two senders never post the same rows."""

    __tablename__ = "xapi_statements"
    __table_args__ = (Index("ix_xapi_statements_pending", "sent_at", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)  # the statement's UUID
    verb: Mapped[str] = mapped_column(String(12))  # completed | passed | failed | earned | voided
    ref: Mapped[str | None] = mapped_column(String(120), index=True)  # e.g. "certificate:CODE", to void it
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)  # the statement's timestamp
    sent_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(32))  # the sender holding it (a random token)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    rejected_at: Mapped[datetime | None]  # the LRS refused it as invalid (400): kept, not retried
    last_error: Mapped[str | None] = mapped_column(String(500))
