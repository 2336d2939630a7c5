"""The ``lms`` command: thin click commands, each calling one service."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.content.problems import ContentError
from lms.services.errors import ServiceError
from lms.store import make_engine, make_sessionmaker

__all__ = ["main"]


def _now() -> datetime:
    return datetime.now(UTC)


def _settings() -> Settings:
    return Settings.load()


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(_settings().database_url)
    try:
        session = make_sessionmaker(engine)()
        with session, session.begin():
            yield session
    finally:
        engine.dispose()


def _print(obj: object) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


def _fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


def _service_failure(exc: ServiceError) -> None:
    details = [f"{name}: {key}" for name, key in exc.fields.items()] or [exc.key]
    _fail([f"error: {d}" for d in details])


@click.group()
def main() -> None:
    """Bình dân học vụ số LMS."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the newest schema and load the administrative units."""
    from lms.services.units import ensure_units
    from lms.store.migrate import upgrade

    upgrade(_settings().database_url)
    with _session() as session:
        added = ensure_units(session)
    _print({"migrated": True, "units_added": added})


@main.group()
def content() -> None:
    """Course and quiz content files."""


def _content_paths(path: str | None) -> tuple[Path, Path | None]:
    if path is None:
        s = _settings()
        return s.content_path, s.quizzes_path
    root = Path(path)
    return root, None


@content.command("check")
@click.argument("path", required=False)
def content_check(path: str | None) -> None:
    """Check every course (and quiz) under PATH; print FILE:LINE: message per problem."""
    from lms.services.content import check_all

    courses_root, quizzes_root = _content_paths(path)
    problems, summary = check_all(courses_root, quizzes_root)
    if problems:
        _fail([str(p) for p in problems])
    click.echo(summary)


@content.command("sync")
@click.argument("path", required=False)
def content_sync(path: str | None) -> None:
    """Load or refresh courses and quizzes into the database (idempotent)."""
    from lms.services.content import sync_all

    courses_root, quizzes_root = _content_paths(path)
    try:
        with _session() as session:
            report = sync_all(session, courses_root, quizzes_root, now=_now())
    except ContentError as exc:
        _fail([str(p) for p in exc.problems])
    _print(report)


@main.group()
def users() -> None:
    """Accounts."""


@users.command("create")
@click.option("--role", type=click.Choice(["citizen", "official", "trainer", "manager", "admin"]), required=True)
@click.option("--login", required=True)
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--unit", "unit_code", default=None, help="NSO code of the unit (province or commune)")
def users_create(role: str, login: str, password: str, name: str | None, unit_code: str | None) -> None:
    """Create an account."""
    from lms.services.accounts import create_user

    try:
        with _session() as session:
            user = create_user(session, role=role, login=login, password=password, full_name=name,
                               unit_code=unit_code, now=_now())
            user_id = user.id
    except ServiceError as exc:
        _service_failure(exc)
    _print({"user_id": user_id})


@main.group()
def quiz() -> None:
    """Quizzes and question banks."""


@quiz.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--course", "course_id", required=True, help="id of the course the quiz belongs to")
@click.option("--format", "fmt", type=click.Choice(["gift", "moodle-xml", "aiken"]), default=None,
              help="guessed from the file when not given")
@click.option("--quiz-id", default=None, help="id of the quiz to create or refresh (default: COURSE-FILENAME)")
def quiz_import(file: str, course_id: str, fmt: str | None, quiz_id: str | None) -> None:
    """Import GIFT, Moodle XML or Aiken questions; nothing is stored if the file has a problem."""
    from lms.services.quizzes import import_file

    path = Path(file)
    if not path.is_file():
        _fail([f"{file}:1: file not found"])
    try:
        with _session() as session:
            quiz_id, count, skipped = import_file(session, path, course_id=course_id, fmt=fmt, now=_now(),
                                                  quiz_id=quiz_id)
    except ContentError as exc:
        _fail([str(p) for p in exc.problems])
    except ServiceError as exc:
        _fail([f"{file}:1: {exc.key}: {course_id}"])
    for line in skipped:
        click.echo(line, err=True)
    _print({"quiz_id": quiz_id, "questions": count, "skipped": len(skipped)})


@quiz.command("export")
@click.argument("quiz_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
def quiz_export(quiz_id: str, output: str | None) -> None:
    """Write a quiz's question bank as GIFT."""
    from lms.content.gift_export import export_gift
    from lms.services.quizzes import get_quiz, question_docs

    try:
        with _session() as session:
            title = get_quiz(session, quiz_id).title
            text = export_gift(question_docs(session, quiz_id), title=title)
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {quiz_id}"])
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text)


@quiz.command("finish-expired")
def quiz_finish_expired() -> None:
    """Grade and close attempts left open past their deadline (run it from cron or the worker)."""
    from lms.services.quizzes import finish_expired

    with _session() as session:
        n = finish_expired(session, now=_now())
    _print({"finished": n})


@main.group()
def certificates() -> None:
    """Certificates."""


@certificates.command("issue")
@click.option("--login", required=True, help="the learner's login")
@click.option("--course", "course_id", required=True)
def certificates_issue(login: str, course_id: str) -> None:
    """Issue a course certificate to a learner who passed outside the site (an in-person class)."""
    from lms.services import certificates as service

    try:
        with _session() as session:
            cert = service.issue_by_staff(session, None, login, course_id, now=_now())
            state = service.schedule_pdf(session, cert, settings=_settings())
            code = cert.code
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {login} {course_id}"])
    _print({"code": code, "pdf": state})


@certificates.command("revoke")
@click.argument("code")
@click.option("--reason", required=True)
def certificates_revoke(code: str, reason: str) -> None:
    """Revoke a certificate; the verify page then says revoked."""
    from lms.services import certificates as service

    try:
        with _session() as session:
            service.revoke(session, code, reason, now=_now())
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {code}"])
    _print({"code": code, "status": "revoked"})


@certificates.command("reissue")
@click.argument("code")
def certificates_reissue(code: str) -> None:
    """Issue a corrected certificate (e.g. after a name correction); the old one is kept, revoked."""
    from lms.services import certificates as service

    try:
        with _session() as session:
            new = service.reissue(session, code, now=_now())
            service.schedule_pdf(session, new, settings=_settings())
            new_code = new.code
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {code}"])
    _print({"code": new_code, "replaces": code})


@certificates.command("regenerate")
@click.option("--all", "everything", is_flag=True, help="also remake PDFs that are already ready")
def certificates_regenerate(everything: bool) -> None:
    """Make (or remake) certificate PDFs, with a progress bar; queued when LMS_REDIS_URL is set."""
    from sqlalchemy import select

    from lms.services import certificates as service
    from lms.store import Certificate

    with _session() as session:
        query = select(Certificate.id)
        if not everything:
            query = query.where(Certificate.pdf_status != "ready")
        ids = list(session.scalars(query))
    done = 0
    with click.progressbar(ids, label="Certificates", show_pos=True) as bar:
        for cert_id in bar:
            with _session() as session:
                cert = session.get(Certificate, cert_id)
                if cert is not None:
                    cert.pdf_status = "pending"
                    service.schedule_pdf(session, cert, settings=_settings())
                    done += 1
    _print({"scheduled": done})


@main.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst: bool) -> None:
    """Run background jobs (certificate PDFs) from Redis (LMS_REDIS_URL)."""
    from lms.jobs import run_worker

    settings = _settings()
    if not settings.redis_url:
        _fail(["error: LMS_REDIS_URL is not set; jobs run inline in the embedded default"])
    assert settings.redis_url is not None
    run_worker(settings.redis_url, burst=burst)


@main.group()
def roster() -> None:
    """Official rosters."""


@roster.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="say what would change, store nothing")
def roster_import(file: str, dry_run: bool) -> None:
    """Import officials from CSV or XLSX (full_name, login, unit_code, agency, position)."""
    from lms.services.roster import RosterError, import_roster

    path = Path(file)
    if not path.is_file():
        _fail([f"{file}:1:-: file not found"])
    engine = make_engine(_settings().database_url)
    try:
        with make_sessionmaker(engine)() as session:
            session.begin()
            try:
                result = import_roster(session, path, now=_now())
            except RosterError as exc:
                session.rollback()
                _fail(exc.problems)
            if dry_run:
                session.rollback()
            else:
                session.commit()
    finally:
        engine.dispose()
    _print({"created": result.created, "updated": result.updated, "unchanged": result.unchanged,
            "dry_run": dry_run})


@main.group()
def report() -> None:
    """Reports against the competence targets."""


@report.command("rebuild")
def report_rebuild() -> None:
    """Recompute every summary figure from the raw records (figures are counted live for now)."""
    _print({"rebuilt": True, "note": "report figures are computed from the records on each request"})


@main.group()
def demo() -> None:
    """The small demonstration data set."""


@demo.command("seed")
def demo_seed() -> None:
    """Create the demo accounts listed in README.md (idempotent)."""
    from lms.services.demo import seed

    with _session() as session:
        created = seed(session, now=_now())
    _print({"created": created})


def run() -> None:  # pragma: no cover - console entry alias
    main()


if __name__ == "__main__":  # pragma: no cover
    main()

