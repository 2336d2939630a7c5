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
    from lms.services import figures
    from lms.services.plans import ensure_default_plan
    from lms.services.units import ensure_units
    from lms.store.migrate import upgrade

    upgrade(_settings().database_url)
    with _session() as session:
        added = ensure_units(session)
        plan_added = ensure_default_plan(session, now=_now())
        if figures.missing(session):  # a database from before the kept figures
            figures.rebuild(session)
    _print({"migrated": True, "units_added": added, "default_plan_added": plan_added})


@main.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
def backup(path: Path) -> None:
    """Copy the SQLite database to PATH (a file, or a folder) while the site keeps running."""
    from lms.store.backup import BackupError, backup_sqlite

    try:
        report = backup_sqlite(_settings().database_url, path, now=_now())
    except BackupError as exc:
        _fail([f"error: {exc}"])
    _print({"path": str(report.path), "bytes": report.size, "revision": report.revision, "tables": report.tables})


@main.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def restore(path: Path) -> None:
    """Replace the SQLite database with the backup PATH, after checking it; keeps the old one as .bak."""
    from lms.store.backup import BackupError, restore_sqlite

    try:
        report = restore_sqlite(_settings().database_url, path)
    except BackupError as exc:
        _fail([f"error: {exc}"])
    _print({"restored": str(report.database), "from": str(report.source), "revision": report.revision,
            "upgrade_needed": report.upgrade_needed,
            "previous": str(report.previous) if report.previous else None, "tables": report.tables})


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
    from lms.domain.certificates import VN
    from lms.services.content import check_all

    courses_root, quizzes_root = _content_paths(path)
    problems, summary, warnings = check_all(courses_root, quizzes_root, today=datetime.now(VN).date())
    for warning in warnings:
        click.echo(str(warning), err=True)
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
    kept = report["lessons_kept"]
    for lesson_id in kept if isinstance(kept, list) else []:
        click.echo(f"kept: lesson '{lesson_id}' keeps the text published in the browser "
                   "(its file has not changed since)", err=True)
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
@click.option("--resume", "resume_id", default=None, help="continue the job of this id where it stopped")
def certificates_regenerate(everything: bool, resume_id: str | None) -> None:
    """Make (or remake) certificate PDFs, with a progress bar; queued when LMS_REDIS_URL is set.
    The run is recorded as a job: `lms jobs resume` (or --resume ID) continues it after a crash."""
    from lms.services import job_runner
    from lms.services import jobs as job_service

    settings = _settings()
    with _session() as session:
        if resume_id is None:
            job = job_service.create_certificates_regeneration(session, owner=None, everything=everything,
                                                               now=_now())
        else:
            job = job_service.requeue(session, resume_id, now=_now())
        job_id, total, first = job.id, job.total or 0, job.done
    engine = make_engine(settings.database_url)
    try:
        with click.progressbar(length=total, label="Certificates", show_pos=True) as bar:
            bar.update(first)
            seen = [first]

            def _advance(done: int, _total: int | None) -> None:
                bar.update(done - seen[0])
                seen[0] = done

            status = job_runner.execute(make_sessionmaker(engine), job_id, settings=settings, on_progress=_advance)
    finally:
        engine.dispose()
    if status != "done":
        _fail([f"error: job {job_id} {status}"])
    _print({"scheduled": total, "job": job_id})


@main.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst: bool) -> None:
    """Run background jobs (certificate PDFs, imports, exports) from Redis (LMS_REDIS_URL); first
    queues again the jobs a stopped process left unfinished."""
    from lms.jobs import run_worker
    from lms.services.job_runner import resume_stale

    settings = _settings()
    if not settings.redis_url:
        _fail(["error: LMS_REDIS_URL is not set; jobs run inline in the embedded default"])
    assert settings.redis_url is not None
    engine = make_engine(settings.database_url)
    try:
        resumed = resume_stale(make_sessionmaker(engine), settings=settings)
    finally:
        engine.dispose()
    if resumed:
        click.echo(f"resumed {len(resumed)} unfinished job(s)", err=True)
    run_worker(settings.redis_url, burst=burst)


@main.group()
def jobs() -> None:
    """Long-running jobs (imports, exports, bulk PDF runs)."""


@jobs.command("resume")
@click.option("--stale-after", type=int, default=300, show_default=True,
              help="seconds without progress after which a running job counts as abandoned")
def jobs_resume(stale_after: int) -> None:
    """Run again the jobs a stopped process left unfinished (here, or on the queue with Redis)."""
    from datetime import timedelta

    from lms.services.job_runner import resume_stale

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        resumed = resume_stale(make_sessionmaker(engine), settings=settings, inline=True,
                               after=timedelta(seconds=stale_after))
    finally:
        engine.dispose()
    _print({"resumed": resumed})


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
    """Recompute every summary figure from the raw records, with a progress bar."""
    from lms.services import figures

    with _session() as session:
        before = figures.kept(session)
        with click.progressbar(length=1, label="Figures", show_pos=True) as bar:
            def _advance(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            counted = figures.rebuild(session, progress=_advance)
        after = figures.kept(session)
    changed = sum(1 for k in set(before) | set(after) if before.get(k) != after.get(k))
    _print({"rebuilt": True, "contributors": counted, "figures": len(after), "figures_corrected": changed})


@report.command("show")
@click.option("--unit", "unit_code", required=True, help="Province or commune code.")
@click.option("--year", type=int, default=None, help="Year (default: this year).")
def report_show(unit_code: str, year: int | None) -> None:
    """Print a unit's report (indicators against the plan, and the published figures) as JSON."""
    from lms.services import reports
    from lms.store import User

    with _session() as session:
        viewer = User(role="admin", login="cli", full_name="cli", password_hash="!")  # noqa: S106 - not stored
        try:
            r = reports.full_report(session, viewer, unit_code, year or _now().year, with_units=False)
        except ServiceError as exc:
            _service_failure(exc)
        _print({"unit": r.unit_code, "year": r.year, "plan": r.plan.slug,
                "indicators": [{"id": i.id, "numerator": i.numerator, "denominator": i.denominator,
                                "percent": i.percent, "target_percent": i.target_percent, "met": i.met}
                               for i in r.indicators], "figures": r.figures})


@main.command("retention")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted; delete nothing.")
def retention(dry_run: bool) -> None:
    """Delete audit events, dead API tokens and finished jobs older than the retention settings
    (LMS_AUDIT_RETENTION_DAYS, LMS_TOKEN_RETENTION_DAYS, LMS_JOB_RETENTION_DAYS). Run it daily."""
    from lms.services.retention import purge

    settings = _settings()
    with _session() as session:
        purged = purge(session, now=_now(), audit_days=settings.audit_retention_days,
                       token_days=settings.token_retention_days, job_days=settings.job_retention_days)
        if dry_run:
            session.rollback()
    _print({"audit_events": purged.audit_events, "tokens": purged.tokens, "jobs": purged.jobs, "dry_run": dry_run,
            "days": {"audit": settings.audit_retention_days, "tokens": settings.token_retention_days,
                     "jobs": settings.job_retention_days}})


@main.group()
def plans() -> None:
    """Plans and their targets; the working-age population per unit."""


@plans.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def plans_import(file: Path) -> None:
    """Store a plan written in TOML (see docs/reports.md); a plan of the same slug is replaced."""
    from lms.services import plans as plan_service

    with _session() as session:
        try:
            plan = plan_service.import_plan(session, file, now=_now())
        except ServiceError as exc:
            _fail(list(exc.fields.values()) or [exc.key])
        _print({"plan": plan.slug, "unit_code": plan.unit_code, "targets": len(plan.indicators)})


@plans.command("population")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and say what would change; store nothing.")
def plans_population(file: Path, dry_run: bool) -> None:
    """Import working-age population figures (CSV or XLSX: unit_code, year, working_age[, source])."""
    from lms.services import plans as plan_service

    with _session() as session:
        try:
            result = plan_service.import_populations(session, None, file, now=_now(), dry_run=dry_run)
        except ServiceError as exc:
            _fail(list(exc.fields.values()) or [exc.key])
        _print({"stored": result.stored, "unchanged": result.unchanged, "dry_run": dry_run})


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

