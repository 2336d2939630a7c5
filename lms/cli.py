"""The ``lms`` command: thin click commands, each calling one service."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy.orm import Session

from lms.config import Settings
from lms.content.gift_export import export_gift
from lms.content.problems import ContentError
from lms.domain.calendar import VN
from lms.jobs import enqueue, run_worker
from lms.services import audit, figures, job_runner, reports, statements
from lms.services import certificates as certificate_service
from lms.services import jobs as job_service
from lms.services import lti as lti_service
from lms.services import plans as plan_service
from lms.services.accounts import create_user
from lms.services.content import check_all, sync_all
from lms.services.demo import seed
from lms.services.errors import ServiceError
from lms.services.first_password import issue_code
from lms.services.job_runner import resume_stale
from lms.services.plans import ensure_default_plan
from lms.services.quizzes import finish_expired, get_quiz_for, grant_co_owner, import_file, question_docs
from lms.services.retention import purge
from lms.services.roster import RosterError, import_roster
from lms.services.unit_of_work import make_sessionmaker
from lms.services.units import ensure_units
from lms.store import JobStatus, Role, User, make_engine
from lms.store.backup import BackupError, backup_sqlite, restore_sqlite
from lms.store.migrate import upgrade

__all__ = ["main"]


def _now() -> datetime:
    return datetime.now(UTC)


def _settings() -> Settings:
    return Settings.load()


@contextmanager
def _session() -> Iterator[Session]:
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        statements.bind(sessions, settings)  # events recorded here reach the LRS too
        session = sessions()
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
    try:
        report = backup_sqlite(_settings().database_url, path, now=_now())
    except BackupError as exc:
        _fail([f"error: {exc}"])
    _print({"path": str(report.path), "bytes": report.size, "revision": report.revision, "tables": report.tables})


@main.command("restore")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
def restore(path: Path) -> None:
    """Replace the SQLite database with the backup PATH, after checking it; keeps the old one as .bak."""
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
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--login", required=True)
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--unit", "unit_code", default=None, help="NSO code of the unit (province or commune)")
def users_create(role: str, login: str, password: str, name: str | None, unit_code: str | None) -> None:
    """Create an account."""
    try:
        with _session() as session:
            user = create_user(session, role=role, login=login, password=password, full_name=name,
                               unit_code=unit_code, now=_now())
            user_id = user.id
    except ServiceError as exc:
        _service_failure(exc)
    _print({"user_id": user_id})


@users.command("setup-code")
@click.option("--login", required=True)
def users_setup_code(login: str) -> None:
    """A one-time code for LOGIN to set a first password at /first-password (72 hours, once)."""
    try:
        with _session() as session:
            code, row = issue_code(session, None, login, now=_now())
            expires = row.expires_at.isoformat()
    except ServiceError as exc:
        _service_failure(exc)
    _print({"code": code, "expires_at": expires, "url": _settings().public_url + "/first-password"})


@main.group()
def quiz() -> None:
    """Quizzes and question banks."""


@quiz.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--course", "course_id", required=True, help="id of the course the quiz belongs to")
@click.option("--format", "fmt", type=click.Choice(["gift", "moodle-xml", "aiken"]), default=None,
              help="guessed from the file when not given")
@click.option("--draft", is_flag=True, help="keep the new quiz unpublished (invisible to learners)")
@click.option("--replace", "replace", default=None, metavar="QUIZ_ID",
              help="replace the bank of a quiz imported here before (never one from quizzes/)")
def quiz_import(file: str, course_id: str, fmt: str | None, draft: bool, replace: str | None) -> None:
    """Import GIFT, Moodle XML or Aiken questions as a NEW practice quiz of the course, published
    at once unless --draft; nothing is stored if the file has a problem or the quiz to replace
    may not be replaced."""
    path = Path(file)
    if not path.is_file():
        _fail([f"{file}:1: file not found"])
    try:
        with _session() as session:
            quiz_id, count, skipped = import_file(session, path, course_id=course_id, fmt=fmt, now=_now(),
                                                  draft=draft, replace=replace)
    except ContentError as exc:
        _fail([str(p) for p in exc.problems])
    except ServiceError as exc:
        target = replace if replace and exc.key.startswith("quiz.") else course_id
        _fail([f"{file}:1: {exc.key}: {target}"])
    for line in skipped:
        click.echo(line, err=True)
    _print({"quiz_id": quiz_id, "questions": count, "skipped": len(skipped)})


@content.command("co-owner")
@click.argument("course_id")
@click.option("--login", required=True, help="the trainer or manager who may edit its lessons")
def content_co_owner(course_id: str, login: str) -> None:
    """Let a trainer or manager edit a course's lessons in the browser (see docs/security.md)."""
    _grant_co_owner("course", course_id, login)


@quiz.command("co-owner")
@click.argument("quiz_id")
@click.option("--login", required=True, help="the trainer or manager who may also change it")
def quiz_co_owner(quiz_id: str, login: str) -> None:
    """Let another author change an imported quiz beside its owner (never a quiz from quizzes/)."""
    _grant_co_owner("quiz", quiz_id, login)


def _grant_co_owner(kind: str, object_id: str, login: str) -> None:
    try:
        with _session() as session:
            grant_co_owner(session, None, kind, object_id, login, now=_now())
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {object_id} {login}"])
    _print({f"{kind}_id": object_id, "co_owner": login})


@quiz.command("export")
@click.argument("quiz_id")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
def quiz_export(quiz_id: str, output: str | None) -> None:
    """Write a quiz's question bank as GIFT."""
    try:
        with _session() as session:
            title = get_quiz_for(session, None, quiz_id, drafts=True).title
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
    with _session() as session:
        n = finish_expired(session, now=_now(), settings=_settings())  # a passing final earns its certificate
    _print({"finished": n})


@main.group()
def certificates() -> None:
    """Certificates."""


@certificates.command("issue")
@click.option("--login", required=True, help="the learner's login")
@click.option("--course", "course_id", required=True)
def certificates_issue(login: str, course_id: str) -> None:
    """Issue a course certificate to a learner who passed outside the site (an in-person class)."""
    try:
        with _session() as session:
            cert = certificate_service.issue_by_staff(session, None, login, course_id, now=_now())
            state = certificate_service.schedule_pdf(session, cert, settings=_settings())
            code = cert.code
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {login} {course_id}"])
    _print({"code": code, "pdf": state})


@certificates.command("revoke")
@click.argument("code")
@click.option("--reason", required=True)
def certificates_revoke(code: str, reason: str) -> None:
    """Revoke a certificate; the verify page then says revoked."""
    try:
        with _session() as session:
            certificate_service.revoke(session, code, reason, now=_now())
    except ServiceError as exc:
        _fail([f"error: {exc.key}: {code}"])
    _print({"code": code, "status": "revoked"})


@certificates.command("reissue")
@click.argument("code")
def certificates_reissue(code: str) -> None:
    """Issue a corrected certificate (e.g. after a name correction); the old one is kept, revoked."""
    try:
        with _session() as session:
            new = certificate_service.reissue(session, code, now=_now())
            certificate_service.schedule_pdf(session, new, settings=_settings())
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
    if status != JobStatus.DONE:
        _fail([f"error: job {job_id} {status}"])
    _print({"scheduled": total, "job": job_id})


@main.command("worker")
@click.option("--burst", is_flag=True, help="stop when the queue is empty")
def worker(burst: bool) -> None:
    """Run background jobs (certificate PDFs, imports, exports) from Redis (LMS_REDIS_URL); first
    queues again the jobs a stopped process left unfinished."""
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
    if settings.xapi_endpoint:  # statements left pending by a stopped worker or the CLI

        enqueue(settings.redis_url, "lms.services.statements.flush_job")
    # before RQ forks its first work horse, so every job inherits what a certificate PDF needs
    certificate_service.warm_up(settings)
    run_worker(settings.redis_url, burst=burst)


@main.group()
def jobs() -> None:
    """Long-running jobs (imports, exports, bulk PDF runs)."""


@jobs.command("resume")
@click.option("--stale-after", type=int, default=300, show_default=True,
              help="seconds without progress after which a running job counts as abandoned")
def jobs_resume(stale_after: int) -> None:
    """Run again the jobs a stopped process left unfinished (here, or on the queue with Redis)."""
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
    with _session() as session:
        viewer = User(role=Role.ADMIN.value, login="cli", full_name="cli", password_hash="!")  # noqa: S106 - not stored
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
    with _session() as session:
        try:
            result = plan_service.import_populations(session, None, file, now=_now(), dry_run=dry_run)
        except ServiceError as exc:
            _fail(list(exc.fields.values()) or [exc.key])
        _print({"stored": result.stored, "unchanged": result.unchanged, "dry_run": dry_run})


@main.group()
def lti() -> None:
    """The LMS as an LTI 1.3 tool: platforms, keys, scores, rosters (docs/lti.md)."""


@lti.group("platforms")
def lti_platforms() -> None:
    """Platforms (Moodle, Canvas, Open edX) allowed to launch the LMS."""


@lti_platforms.command("add")
@click.option("--issuer", required=True, help="the platform's issuer (iss), a URL")
@click.option("--client-id", required=True, help="the client id the platform gave this tool")
@click.option("--deployment-id", required=True, help="a deployment id of the tool on the platform")
@click.option("--auth-login-url", required=True, help="the platform's OIDC authorization endpoint")
@click.option("--auth-token-url", required=True, help="the platform's OAuth 2 token endpoint")
@click.option("--keyset-url", required=True, help="the platform's public key set (JWKS) URL")
@click.option("--name", default="", help="a name to show (default: the issuer's host)")
def lti_platforms_add(issuer: str, client_id: str, deployment_id: str, auth_login_url: str, auth_token_url: str,
                      keyset_url: str, name: str) -> None:
    try:
        with _session() as session:
            platform = lti_service.add_platform(session, issuer=issuer, client_id=client_id,
                                                deployment_id=deployment_id, auth_login_url=auth_login_url,
                                                auth_token_url=auth_token_url, keyset_url=keyset_url, name=name,
                                                now=_now())
            platform_id = platform.id
    except ServiceError as exc:
        _service_failure(exc)
    _print({"platform_id": platform_id})


@lti_platforms.command("list")
def lti_platforms_list() -> None:
    with _session() as session:
        _print(lti_service.list_platforms(session))


@lti_platforms.command("remove")
@click.argument("platform_id", type=int)
@click.option("--deployment-id", default=None, help="remove only this deployment (the platform goes with its last)")
@click.option("--drop-pending-scores", is_flag=True,
              help="remove the platform although scores wait to be sent to it: they are lost")
def lti_platforms_remove(platform_id: int, deployment_id: str | None, drop_pending_scores: bool) -> None:
    """Stop a platform (or one of its deployments) launching the LMS; accounts and results stay."""
    try:
        with _session() as session:
            removed = lti_service.remove_platform(session, platform_id, deployment_id=deployment_id,
                                                  drop_pending_scores=drop_pending_scores, now=_now())
    except ServiceError as exc:
        _service_failure(exc)
    _print(removed)


@lti.command("rotate-key")
@click.option("--grace-hours", type=click.IntRange(0, 24 * 30), default=24, show_default=True,
              help="hours the new key is published before it starts signing")
def lti_rotate_key(grace_hours: int) -> None:
    """Publish a new key pair in /lti/jwks; it replaces the signing key after the grace period."""
    with _session() as session:
        _print(lti_service.rotate_keys(session, now=_now(), grace=timedelta(hours=grace_hours)))


@lti.command("registration-url")
@click.option("--days", type=click.IntRange(1, 90), default=7, show_default=True, help="how long it stays valid")
def lti_registration_url(days: int) -> None:
    """The URL to paste into Moodle's "Tool URL" for LTI Dynamic Registration."""
    settings = _settings()
    _print(lti_service.registration_url(settings.public_url, secret_key=settings.secret_key, days=days))


@lti.command("flush")
def lti_flush() -> None:
    """Send the scores that are due to the platforms now; prints {"sent", "failed", "pending"}."""
    engine = make_engine(_settings().database_url)
    try:
        _print(lti_service.deliver_due(make_sessionmaker(engine), now=_now))
    finally:
        engine.dispose()


@lti.command("roster-sync")
def lti_roster_sync() -> None:
    """Read the members of every platform course seen in a launch (Names and Role Provisioning)
    and link an account to each."""
    with _session() as session:
        report = lti_service.roster_sync(session, now=_now())
    _print(report)
    if report["errors"]:
        sys.exit(1)


@main.group()
def demo() -> None:
    """The small demonstration data set."""


@demo.command("seed")
def demo_seed() -> None:
    """Create the demo accounts listed in README.md (idempotent). Refused when LMS_ENV=production:
    their passwords are public."""
    if (os.environ.get("LMS_ENV") or "").strip() == "production":  # before anything else can fail
        _fail(["error: LMS_ENV=production: demo accounts with published passwords are never created"])
    try:
        with _session() as session:
            created = seed(session, now=_now(), production=_settings().production)
    except ServiceError as exc:
        _service_failure(exc)
    _print({"created": created})


@main.group()
def xapi() -> None:
    """Learning records sent to the LRS (LMS_XAPI_ENDPOINT), see docs/xapi.md."""


@xapi.command("flush")
def xapi_flush() -> None:
    """Send the statements queued now; prints {"sent": N, "pending": N}. While the LRS is down
    they stay queued (nothing is lost) and the command still ends normally."""
    settings = _settings()
    if not settings.xapi_endpoint:
        _fail(["error: LMS_XAPI_ENDPOINT is not set"])
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        target = statements.bind(sessions, settings)
        assert target is not None
        result = statements.flush(sessions, target)
    finally:
        engine.dispose()
    if result.error:
        click.echo(f"the LRS did not take the statements: {result.error}", err=True)
    _print({"sent": result.sent, "pending": result.pending, "rejected": result.rejected})


@xapi.command("status")
def xapi_status() -> None:
    """Pending and refused statements, the oldest waiting and the last error."""
    with _session() as session:
        _print(statements.status(session))


@xapi.command("replay")
@click.option("--since", required=True, help="date (YYYY-MM-DD, UTC) or ISO time")
def xapi_replay(since: str) -> None:
    """Queue again every statement recorded since DATE, for a new LRS (same ids: no duplicates)."""
    try:
        when = datetime.fromisoformat(since)
    except ValueError:
        _fail([f"error: --since {since!r} is not a date (YYYY-MM-DD)"])
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    with _session() as session:
        count = statements.replay(session, since=when)
    _print({"requeued": count})


@xapi.command("actor")
@click.argument("login", required=False)
@click.option("--name", help="the opaque account name found in the LRS, to look up its login")
def xapi_actor(login: str | None, name: str | None) -> None:
    """For an authorised audit: the LRS account of LOGIN, or (--name) the login behind an account.
    Each look-up is written to the audit log."""
    if bool(login) == bool(name):
        _fail(["error: give either LOGIN or --name"])
    settings = _settings()
    with _session() as session:
        if login:
            account = statements.actor_for_login(session, settings, login)
            if account is None:
                _fail(["error: user.not_found"])
            audit.record(session, "xapi.actor", "user", login, now=_now())
            _print({"login": login, "account": account})
        else:
            found = statements.login_for_actor(session, settings, str(name))
            if found is None:
                _fail(["error: user.not_found"])
            audit.record(session, "xapi.actor", "user", str(found), now=_now(), account=name)
            _print({"login": found, "account": {"homePage": settings.public_url, "name": name}})


def run() -> None:  # pragma: no cover - console entry alias
    main()


if __name__ == "__main__":  # pragma: no cover
    main()

